package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/a-h/templ"

	"partialtruth/sim"
	"partialtruth/web/ui"
)

// exampleScenario is the handbook's example as a scenario, without how
// it plays: what /play opens on when its URL names nothing.
const exampleScenario = "design=dual-write&compare=outbox-idempotent&faults=bus.publish.fail=0.1&payments=200&seed=42"

// exampleQuery is the handbook's example: dual write against the outbox
// with an idempotent consumer, 10% of bus publishes failing, played through
// at sim.PlayThroughSpeed like the checklist's demos.
var exampleQuery = exampleScenario + "&speed=" + strconv.Itoa(sim.PlayThroughSpeed) + "&autoplay=1"

// formVocabulary is sim's parameter table as the browser's form code
// needs it: each parameter's name, default and whether a link always spells
// it out, in URL order; the speeds offered; and the sentence for a fault
// that cannot touch the chosen designs. The page hands it over as data, so
// the browser holds no copy of its own.
type formVocabulary struct {
	Params   []formParam `json:"params"`
	NoEffect string      `json:"noEffect"`
}

type formParam struct {
	Name    string   `json:"name"`
	Default string   `json:"default"`
	Core    bool     `json:"core,omitempty"`
	View    bool     `json:"view,omitempty"`
	Choices []string `json:"choices,omitempty"`
}

// vocabularyJSON is formVocabulary's JSON, the same for every page.
var vocabularyJSON = sync.OnceValue(func() string {
	v := formVocabulary{NoEffect: sim.NoEffectSentence}
	for _, p := range sim.AllParams() {
		fp := formParam{Name: p.Name, Default: p.Default, Core: p.Core, View: p.View}
		for _, c := range p.Choices {
			fp.Choices = append(fp.Choices, c.Value)
		}
		v.Params = append(v.Params, fp)
	}
	b, err := json.Marshal(v)
	if err != nil { // plain strings and bools: cannot happen
		panic(err)
	}
	return string(b)
})

// exampleStory is the first payment dual write loses in the handbook's
// example, found by running it once: the front page's link opens on its
// story, so the reader sees at once why one design lost it and the other
// did not. 0 if the example lost none (it does: a test holds it to that).
var exampleStory = sync.OnceValue(func() int {
	q, _ := url.ParseQuery(exampleScenario)
	sc, err := sim.FromParams(q.Get)
	if err != nil {
		return 0
	}
	events, _, err := sim.Record(sc)
	if err != nil {
		return 0
	}
	for _, ev := range events {
		if ev.Violation != "" && ev.Payment > 0 {
			return ev.Payment
		}
	}
	return 0
})

// exampleURL is the front page's first link: the handbook's example,
// played through, with the story of the first payment dual write lost.
func exampleURL() string {
	u := "/play?" + exampleQuery
	if p := exampleStory(); p > 0 {
		u += "&story=" + strconv.Itoa(p)
	}
	return u
}

// handleHome is the front page.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, ui.HomePage(ui.Home{ExampleURL: exampleURL(), Story: exampleStory(), Designs: designOptions()}))
}

// handlePlay is the playground. The form is rendered from the URL; an
// invalid scenario is still rendered, with a 400 and the message beside
// the field at fault, so the reader can fix it in place.
//
// With no parameters that say what runs it opens on the front page's
// comparison (paused, at the default speed, unless the link says how to
// play): a default with every fault off would show two designs that both
// converge, and teach nothing.
func (s *Server) handlePlay(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if namesNoScenario(q) {
		example, _ := url.ParseQuery(exampleScenario)
		for k, v := range example {
			q[k] = v
		}
	}
	f := playForm(q)
	status := http.StatusOK
	if f.ErrField != "" {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, ui.PlayPage(f))
}

// namesNoScenario says whether q says only how to play (speed, autoplay,
// a story) and nothing of what runs: /play?story=13 opens payment 13's
// story in the front page's comparison, not in a run with every fault off.
func namesNoScenario(q url.Values) bool {
	for k := range q {
		if k != "speed" && k != "autoplay" && k != "story" {
			return false
		}
	}
	return true
}

// render writes a page. A render error after the header is sent can only
// be logged.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		s.log.Error("render page", "path", r.URL.Path, "err", err)
	}
}

// webHelp is a parameter's help as the web allows it: payments and
// deadline say the web's own limits and why, the same limits the socket
// enforces, so the form never offers what the server refuses.
func webHelp(p sim.Param) string {
	switch p.Name {
	case "payments":
		// Short: it sits in a half-width column. Why the web stops there is
		// said by the error and by the deadline's help.
		return fmt.Sprintf("how many the client sends: %d to %d on the web (the command line allows more)", sim.MinPayments, MaxWebPayments)
	case "deadline":
		return fmt.Sprintf("virtual time after which the run stops (Go duration, up to %s on the web; %s)", fmtDuration(MaxWebDeadline), webLimitsText)
	}
	return p.Help
}

// playForm reads a scenario from the query through webScenario (the CLI's
// parser with the server's payments limit, as the socket applies it) and
// keeps every value as typed. Every field's name, label, help and default
// come from sim's parameter table.
func playForm(q url.Values) ui.PlayForm {
	f := ui.PlayForm{
		Values:     map[string]string{},
		Designs:    designOptions(),
		Fields:     map[string]ui.Field{},
		Vocabulary: vocabularyJSON(),
	}
	var speed sim.Param
	for _, p := range sim.AllParams() {
		// The table's default, not Params: Params leaves out the later
		// families' parameters at their defaults, and their fields would
		// show blank.
		f.Values[p.Name] = p.Default
		if v := q.Get(p.Name); v != "" {
			f.Values[p.Name] = v
		}
		f.Fields[p.Name] = ui.Field{Label: ui.Title(p.Name), Help: webHelp(p), Numeric: p.Kind == "number"}
		if !p.View && !p.Core {
			f.More = append(f.More, p.Name)
		}
		if p.Name == "speed" {
			speed = p
		}
	}
	var sc sim.Scenario
	scs, err := webScenarios(q.Get, f.Values["compare"]) // as the socket will parse it
	if len(scs) > 0 {
		sc = scs[0]
	}
	if err != nil {
		f.ErrField, f.ErrMsg = "form", err.Error()
		if ie := (*sim.InputError)(nil); errors.As(err, &ie) {
			f.ErrField = ie.Field
		}
	}
	// A story names one of the run's payments, whose path the page opens
	// on; anything else is refused beside the story's field.
	f.Values["story"] = q.Get("story")
	if f.ErrField == "" && f.Values["story"] != "" {
		if msg := storyRefused(f.Values["story"], sc.Payments); msg != "" {
			f.ErrField, f.ErrMsg = "story", msg
		}
	}
	f.DefaultSpeed = speed.Default
	for _, c := range speed.Choices {
		f.Speeds = append(f.Speeds, ui.SpeedOption{Value: c.Value, Label: c.Label})
	}
	// A speed the select does not offer is refused beside it, like any
	// other bad value, and shown as asked for.
	if v := f.Values["speed"]; !slices.ContainsFunc(speed.Choices, func(c sim.Choice) bool { return c.Value == v }) {
		f.Speeds = append(f.Speeds, ui.SpeedOption{Value: v, Label: v + " (not offered)"})
		if f.ErrField == "" {
			f.ErrField, f.ErrMsg = "speed", speedRefused(v, speed.Choices)
		}
	}
	faults := sc.Faults
	if f.ErrField == "faults" {
		faults = sim.Faults{}
	}
	for _, fault := range sim.AllFaults() {
		f.Faults = append(f.Faults, ui.FaultField{
			Name:     fault.String(),
			Summary:  fault.Summary(),
			Value:    strconv.FormatFloat(faults[fault], 'g', -1, 64),
			Designs:  strings.Join(sim.DesignsTouchedBy(fault), " "),
			NoEffect: sim.NoEffect(fault, f.Values["design"], f.Values["compare"]),
		})
	}
	return f
}

// storyRefused says why v is not a payment of a run of payments
// payments, or "" when it is one.
func storyRefused(v string, payments int) string {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Sprintf("story %q is not a payment number; allowed: a whole number from 1 to %d (the run's payments)", v, payments)
	}
	if n < 1 || n > payments {
		return fmt.Sprintf("story %d is out of range; allowed: 1 to %d (the run's payments)", n, payments)
	}
	return ""
}

// speedRefused says that a link's speed is not one the page offers, and
// which are.
func speedRefused(v string, choices []sim.Choice) string {
	var allowed []string
	for _, c := range choices {
		if c.Value == "0" {
			allowed = append(allowed, "0 (as fast as possible)")
		} else {
			allowed = append(allowed, c.Value)
		}
	}
	return fmt.Sprintf("speed %q is not offered; allowed: %s (virtual ms per real second)", v, strings.Join(allowed, ", "))
}

// designOptions lists every design with its summary, in teaching order.
func designOptions() []ui.DesignOption {
	var out []ui.DesignOption
	for _, d := range sim.Designs() {
		out = append(out, ui.DesignOption{Name: d.Name, Summary: d.Summary})
	}
	return out
}
