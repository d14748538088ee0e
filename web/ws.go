package web

import "net/http"

// viewer is one open WebSocket; filled in with the stream.
type viewer struct{}

// handleRunSocket will stream runs; until then it says so.
func (s *Server) handleRunSocket(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, &StatusError{Status: http.StatusNotImplemented, Msg: "the run stream is not ready yet"})
}
