package web

import (
	"errors"
	"fmt"
	"net/http"

	"partialtruth/sim"
)

// StatusError is an error that knows the HTTP status it should become. The
// message is shown to the user, so it says what was wrong and with what.
type StatusError struct {
	Status int
	Msg    string
}

func (e *StatusError) Error() string { return e.Msg }

func errNotFound(path string) error {
	return &StatusError{Status: http.StatusNotFound, Msg: fmt.Sprintf("%s is not a page here", path)}
}

// statusOf turns an error into an HTTP status and the message the user
// sees: the one place where errors become statuses. Errors it does not know
// are internal: 500, with a generic message (the detail goes to the log).
func statusOf(err error) (int, string) {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status, se.Msg
	}
	var ie *sim.InputError
	if errors.As(err, &ie) {
		return http.StatusBadRequest, ie.Msg
	}
	return http.StatusInternalServerError, "internal error; the server log has the details"
}

// fail writes err as a plain-text HTTP error. Handlers call it instead of
// http.Error so that every error maps to a status the same way.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := statusOf(err)
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	http.Error(w, msg, status)
}
