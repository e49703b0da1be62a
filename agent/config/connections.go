package config

// validateConnections refuses connection limits the agent cannot serve
// with: at least one connection.
func (c *Config) validateConnections(p *Problems) {
	if c.Limits.MaxConnections < 1 {
		p.add("limits.max_connections", "must be at least 1")
	}
}
