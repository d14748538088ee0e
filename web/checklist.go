package web

import (
	"bytes"
	"net/http"

	"partialtruth/checklist"
	"partialtruth/lessons"
	"partialtruth/web/ui"
)

// handleChecklist is /checklist, the reference page a reviewer reads or
// prints.
func (s *Server) handleChecklist(w http.ResponseWriter, r *http.Request) {
	v := ui.ChecklistView{Items: checklist.Items(), Origin: s.hosts.origin(r), Lessons: map[string]ui.ItemLesson{}}
	for _, it := range v.Items {
		if l, ok := lessons.Teaching(s.lessons, it.ID); ok {
			v.Lessons[it.ID] = ui.ItemLesson{N: s.lessonN(l), ID: l.ID, Title: l.Title}
		}
	}
	s.render(w, r, http.StatusOK, ui.ChecklistPage(v))
}

// handleChecklistMarkdown is /checklist.md: the same checklist as a
// Markdown file to paste into a pull request, its links absolute on the
// server's public origin (or the allowed Host the request came to), so
// they still work once pasted.
func (s *Server) handleChecklistMarkdown(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	if err := checklist.WriteMarkdown(&b, s.hosts.origin(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/markdown; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="checklist.md"`)
	w.Write(b.Bytes())
}
