package agent_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/vipagent/vipagent/agent"
	"github.com/vipagent/vipagent/agent/agenttest"
	"github.com/vipagent/vipagent/agent/config"
	"github.com/vipagent/vipagent/reactions"
)

func TestExposureRules(t *testing.T) {
	base := "node: rm1\nnodes: {rm1: {}}\nvips: {v: {address: 192.0.2.1/24, backend: fake}}\n"
	tests := []struct {
		name, yaml string
		ok         bool
		msg        string
	}{
		{"loopback without anything", "listen: 127.0.0.1:8470\n", true, ""},
		{"localhost", "listen: localhost:8470\n", true, ""},
		{"ipv6 loopback", "listen: '[::1]:8470'\n", true, ""},
		{"all addresses without tls or tokens", "listen: 0.0.0.0:8470\n", false, "without TLS (tls.cert, tls.key) and tokens (auth.tokens)"},
		{"tokens but no tls", "listen: 198.51.100.1:8470\nauth: {tokens: [{role: admin, token: 0123456789abcdef0}]}\n", false, "without TLS"},
		{"insecure says so", "listen: 0.0.0.0:8470\ninsecure: true\n", true, ""},
		{"tls and tokens", "listen: 0.0.0.0:8470\ntls: {cert: c.pem, key: k.pem}\nauth: {tokens: [{role: admin, token: 0123456789abcdef0}]}\n", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse([]byte(base + tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(func(string) string { return "" }); err != nil {
				t.Fatal(err)
			}
			err = agent.CheckExposure(c)
			if tt.ok != (err == nil) || (err != nil && (!strings.Contains(err.Error(), tt.msg) || !errors.Is(err, reactions.ErrInvalid))) {
				t.Errorf("CheckExposure = %v, want ok=%v %q", err, tt.ok, tt.msg)
			}
		})
	}
}

// writeCA makes a CA and a certificate for 127.0.0.1 signed by it, usable
// as server and client certificate.
func writeCA(t *testing.T, dir, name string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA"}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	caFile, certFile, keyFile = filepath.Join(dir, name+"-ca.pem"), filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return caFile, certFile, keyFile
}

// Two agents with mutual TLS: rm2 sends a step to rm1 over HTTPS with its
// client certificate; a client without one is refused.
func TestMutualTLSPeers(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := writeCA(t, dir, "pair")
	addr1, addr2 := agenttest.FreeAddr(t), agenttest.FreeAddr(t)
	mk := func(node, addr string) *agent.Main {
		y := `
node: ` + node + `
listen: ` + addr + `
tls: {cert: ` + cert + `, key: ` + key + `, client_ca: ` + ca + `, ca: ` + ca + `}
auth: {tokens: [{name: peer, role: admin, token: peer-token-0123456789}]}
nodes:
  rm1: {url: "https://` + addr1 + `", token: peer-token-0123456789}
  rm2: {url: "https://` + addr2 + `", token: peer-token-0123456789}
vips:
  rm-vip: {address: 192.0.2.100/24, interface: eth0, backend: fake, options: {initial: present}}
reactions:
  - name: move
    match: {condition: RM1_Unexpected_Stop}
    steps: [{disable: rm-vip, on: rm1}, {enable: rm-vip, on: rm2, when: [vip_released]}]
`
		c, err := config.Parse([]byte(y))
		if err != nil {
			t.Fatal(err)
		}
		c.DataDir = filepath.Join(dir, node)
		if err := c.Validate(func(string) string { return "" }); err != nil {
			t.Fatal(err)
		}
		log := zerolog.Nop()
		m, err := agent.Open(c, agent.Options{Logger: &log})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Serve(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close(context.Background()) })
		return m
	}
	mk("rm1", addr1)
	m2 := mk("rm2", addr2)
	// rm2's own VIP starts present too: make it absent so the move shows.
	ev, _, err := m2.Engine.Submit(&reactions.Event{Alarm: reactions.Alarm{Condition: "manual-disable"}, Plan: &reactions.Plan{Steps: []reactions.Step{{Action: reactions.ActionDisable, VIP: "rm-vip"}}}})
	if err != nil {
		t.Fatal(err)
	}
	m2.Engine.Wait(context.Background(), ev.ID)
	ev, _, err = m2.Engine.Submit(&reactions.Event{Alarm: reactions.Alarm{Condition: "RM1_Unexpected_Stop"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := m2.Engine.Wait(ctx, ev.ID)
	if err != nil || got.Status != reactions.StatusSucceeded {
		t.Fatalf("move over mTLS: %v %+v", err, got.Result)
	}
	if s := got.Result.Steps[0]; s.Outcome != reactions.OutcomeChanged || s.PeerEvent == "" {
		t.Errorf("peer step %+v", s)
	}
	// Without a client certificate the TLS handshake fails.
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(ca)
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if resp, err := c.Get("https://" + addr1 + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("client without certificate got %d", resp.StatusCode)
	}
}
