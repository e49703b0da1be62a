// Package templates holds the text/template files people import or read,
// embedded so that the single vipagent binary can write them out.
package templates

import "embed"

// Genesys holds the templates `vipagent genesys` renders (package
// agent/genesys): the step-by-step guide, the application template
// descriptions (genesys/) and the wrapper scripts RM and people run
// (wrappers/, one template per script language).
//
//go:embed genesys/* wrappers/*
var Genesys embed.FS

// Monitoring holds what Prometheus and Grafana import: the alert rules
// (with their promtool unit tests beside them in the source tree) and the
// dashboard.
//
//go:embed prometheus/vipagent-rules.yml grafana/vipagent.json
var Monitoring embed.FS

// Help holds the prose topics of `vipagent help TOPIC`: the reference kept
// out of the README's main path. The generated topics (config, api,
// exit-codes) are written from the code instead.
//
//go:embed help/*.md
var Help embed.FS
