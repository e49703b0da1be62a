// Package templates holds the text/template files people import or read,
// embedded so that the single vipagent binary can write them out.
package templates

import "embed"

// Genesys holds the templates `vipagent genesys` renders (package
// agent/genesys): the step-by-step guide and the application template
// descriptions.
//
//go:embed genesys/*
var Genesys embed.FS
