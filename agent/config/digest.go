package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Digest is the SHA-256 (hex) of the effective configuration: the config as
// loaded, defaults included, written back as YAML with sorted map keys.
// The agent and a command loading the same file compute the same digest,
// so a command can tell whether the agent that answers runs its config.
//
// Secrets count by reference (env:NAME, file:PATH), never by value: the
// digest is published without a credential, and the agent and RM's hook
// resolve the same reference in different environments. The data
// directory and the listen address are left out: the data directory is
// compared on its own (a --data override names it), and the address is
// where the command found the agent, whatever serve --listen said.
func Digest(c *Config) string {
	cc := *c
	cc.DataDir, cc.Listen = "", ""
	b, err := yaml.Marshal(&cc)
	if err != nil {
		// Every field of Config marshals; this is a programming error,
		// and a digest nobody else computes fails closed.
		b = fmt.Appendf(nil, "unmarshalable config: %v", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
