package agent

import (
	"fmt"
	"net"
	"strings"

	"github.com/vipagent/vipagent/agent/config"
)

// CheckExposure refuses to listen beyond loopback without TLS or without
// tokens, unless the config says insecure: true.
func CheckExposure(cfg *config.Config) error {
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return config.Problems{fmt.Sprintf("listen: %v", err)}
	}
	if isLoopback(host) || cfg.Insecure {
		return nil
	}
	var missing []string
	if cfg.TLS.Cert == "" {
		missing = append(missing, "TLS (tls.cert, tls.key)")
	}
	if len(cfg.Auth.Tokens) == 0 {
		missing = append(missing, "tokens (auth.tokens)")
	}
	if len(missing) > 0 {
		return config.Problems{fmt.Sprintf("listen: refusing to listen on %s without %s; configure them or set insecure: true",
			cfg.Listen, strings.Join(missing, " and "))}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
