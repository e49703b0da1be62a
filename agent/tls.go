package agent

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/agent/regularfile"
)

// CheckTLS reads every file tls.* names, as serve would, and returns a
// problem per file that cannot be used, each with its config path: `config
// check` reports them and serve refuses to start (exit 2) instead of
// failing once it listens.
func CheckTLS(cfg *config.Config) []string {
	var probs []string
	unreadable := false
	for _, f := range []struct{ path, file string }{
		{"tls.cert", cfg.TLS.Cert}, {"tls.key", cfg.TLS.Key}, {"tls.client_ca", cfg.TLS.ClientCA}, {"tls.ca", cfg.TLS.CA},
	} {
		if f.file == "" {
			continue
		}
		fh, err := regularfile.Open(f.file)
		if err != nil {
			probs = append(probs, fmt.Sprintf("%s: cannot be read: %v", f.path, err))
			unreadable = true
			continue
		}
		fh.Close()
	}
	if unreadable {
		return probs
	}
	if _, err := serverTLS(cfg.TLS); err != nil {
		probs = append(probs, err.Error())
	}
	if _, err := ClientTLS(cfg.TLS); err != nil && !strings.HasPrefix(err.Error(), "tls: ") {
		// A bad pair is reported once, by serverTLS.
		probs = append(probs, err.Error())
	}
	return probs
}

// ClientTLS is how this node calls HTTPS agents, its peers and, from the
// CLI, its own: tls.ca verifies them, tls.cert identifies this node (mTLS).
// nil without either.
func ClientTLS(t config.TLS) (*tls.Config, error) {
	if t.CA == "" && t.Cert == "" {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CA != "" {
		pem, err := os.ReadFile(t.CA)
		if err != nil {
			return nil, fmt.Errorf("tls.ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca: no certificates in %s", t.CA)
		}
		c.RootCAs = pool
	}
	if t.Cert != "" {
		// The same certificate identifies this agent to its peers (mTLS).
		cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("tls: cert and key: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

func serverTLS(t config.TLS) (*tls.Config, error) {
	if t.Cert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, fmt.Errorf("tls: cert and key: %w", err)
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if t.ClientCA != "" {
		pem, err := os.ReadFile(t.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("tls.client_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.client_ca: no certificates in %s", t.ClientCA)
		}
		c.ClientCAs = pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c, nil
}
