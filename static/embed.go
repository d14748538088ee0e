// Package static holds the playground's CSS and JS modules, embedded so the
// binary serves them without a build step or a second file to deploy.
package static

import "embed"

// FS is every stylesheet and script the pages load, served under /static/.
//
//go:embed *.css *.js
var FS embed.FS
