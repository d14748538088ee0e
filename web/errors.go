package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

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
	var busy *busyError
	if errors.As(err, &busy) {
		return http.StatusServiceUnavailable, busy.Error()
	}
	if errors.Is(err, errServerClosing) {
		return http.StatusServiceUnavailable, errServerClosing.Error()
	}
	return http.StatusInternalServerError, "internal error; the server log has the details"
}

// fail writes err as a plain-text HTTP error, or as JSON under /api/.
// Handlers call it instead of http.Error so that every error maps to a
// status the same way.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := statusOf(err)
	var busy *busyError
	if errors.As(err, &busy) {
		w.Header().Set("Retry-After", strconv.Itoa(int(busy.retryAfter.Seconds())))
	}
	if status >= 500 && status != http.StatusServiceUnavailable {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		var ie *sim.InputError
		field := ""
		if status < 500 && errors.As(err, &ie) {
			field = ie.Field
		}
		writeJSON(w, status, apiError{Error: msg, Field: field})
		return
	}
	http.Error(w, msg, status)
}

// apiError is how /api/ answers a refused request: the message the user
// sees and the input at fault ("" when it is none in particular).
type apiError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// writeJSON writes v as a JSON response that is never cached: answers
// depend on the server's version as much as on the URL.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error: the answer could not be encoded"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
