package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"partialtruth/sim"
	"partialtruth/web/ui"
)

// handleSource is /source/{design}: the Go functions a design runs, each
// under an anchor named after the function, so that a checklist snippet
// cut from one can link to the whole of it.
func (s *Server) handleSource(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "design")
	d, ok := sim.LookupDesign(name)
	if !ok {
		s.fail(w, r, errNotFound(r.URL.Path))
		return
	}
	src, err := sim.DesignSource(name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, ui.SourcePage(ui.SourceView{Design: d.Name, Summary: d.Summary, Funcs: src}))
}
