package web

import "net/http"

// Placeholders so the tree compiles; the front-end engineer replaces this
// file with the real pages.

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("Partial Truth: the playground is coming; see /play\n"))
}

func (s *Server) handlePlay(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("Partial Truth playground placeholder\n"))
}
