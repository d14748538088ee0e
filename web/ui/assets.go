package ui

import "context"

// Assets says where the static files a page links are served: each at a
// URL that names its content, so a browser may keep it for good. Package
// web provides it with each request's context (WithAssets); without one,
// pages link the plain /static/ URLs.
type Assets interface {
	// URL is the address of the static file name ("app.css", "play.js").
	URL(name string) string
	// ImportMap is the page's import map as JSON: it sends each module's
	// plain URL (what "./run.js" resolves to) to its content-named one.
	// Empty for none.
	ImportMap() string
	// Preloads lists the URLs of every module that entry imports, directly
	// or not, for <link rel="modulepreload">.
	Preloads(entry string) []string
}

type assetsKey struct{}

// WithAssets returns ctx carrying a, for the pages rendered with it.
func WithAssets(ctx context.Context, a Assets) context.Context {
	return context.WithValue(ctx, assetsKey{}, a)
}

// plainAssets links every file at its plain /static/ URL.
type plainAssets struct{}

func (plainAssets) URL(name string) string   { return "/static/" + name }
func (plainAssets) ImportMap() string        { return "" }
func (plainAssets) Preloads(string) []string { return nil }

func assetsOf(ctx context.Context) Assets {
	if a, ok := ctx.Value(assetsKey{}).(Assets); ok {
		return a
	}
	return plainAssets{}
}

// assetURL is the URL of the static file name for this request.
func assetURL(ctx context.Context, name string) string { return assetsOf(ctx).URL(name) }
