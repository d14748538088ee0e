package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"partialtruth/sim"
	"partialtruth/web/ui"
)

// exampleQuery is the handbook's example: dual write against the outbox
// with an idempotent consumer, 10% of bus publishes failing, played through.
const exampleQuery = "design=dual-write&compare=outbox-idempotent&faults=bus.publish.fail=0.1&payments=200&seed=42&speed=64&autoplay=1"

// formSpeed is the playback speed the form starts at when the URL names none, in virtual
// milliseconds per real second: slow enough to follow a 200-payment run.
const formSpeed = "16"

// coreParams are the parameters the form always shows; the rest of
// sim.ParamNames go under "More settings".
var coreParams = []string{"design", "seed", "payments", "faults", "latency", "jitter"}

// speeds are the playback speeds the page offers; 0 is as fast as possible.
var speeds = []ui.SpeedOption{
	{Value: "1", Label: "1 ms/s"},
	{Value: "4", Label: "4 ms/s"},
	{Value: "16", Label: "16 ms/s"},
	{Value: "64", Label: "64 ms/s"},
	{Value: "256", Label: "256 ms/s"},
	{Value: "1000", Label: "1 s/s"},
	{Value: "0", Label: "max"},
}

// handleHome is the front page.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, ui.HomePage(ui.Home{ExampleURL: "/play?" + exampleQuery, Designs: designOptions()}))
}

// handlePlay is the playground. The form is rendered from the URL; an
// invalid scenario is still rendered, with a 400 and the message beside
// the field at fault, so the reader can fix it in place.
func (s *Server) handlePlay(w http.ResponseWriter, r *http.Request) {
	f := playForm(r.URL.Query())
	status := http.StatusOK
	if f.ErrField != "" {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, ui.PlayPage(f))
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

// playForm reads a scenario from the query through webScenario (the CLI's
// parser with the server's payments limit, as the socket applies it) and
// keeps every value as typed.
func playForm(q url.Values) ui.PlayForm {
	f := ui.PlayForm{
		Values:  map[string]string{"faults": "", "compare": "", "speed": formSpeed},
		Designs: designOptions(),
		Speeds:  speeds,
		Help:    map[string]string{},
	}
	f.Defaults = map[string]string{}
	def := sim.DefaultScenario()
	for _, name := range sim.ParamNames {
		// Param, not Params: Params leaves out the later families'
		// parameters at their defaults, and their fields would show blank.
		f.Values[name] = def.Param(name)
		f.Defaults[name] = def.Param(name)
	}
	f.Params = sim.ParamNames
	for _, name := range sim.ParamNames {
		if !slices.Contains(coreParams, name) {
			f.More = append(f.More, name)
		}
	}
	for _, name := range append(slices.Clone(sim.ParamNames), "compare", "speed") {
		if v := q.Get(name); v != "" {
			f.Values[name] = v
		}
		f.Help[name] = sim.ParamHelp(name)
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
	if sp, err := strconv.ParseFloat(f.Values["speed"], 64); err != nil || sp < 0 {
		f.Values["speed"] = formSpeed
	} else if !slices.ContainsFunc(speeds, func(o ui.SpeedOption) bool { return o.Value == f.Values["speed"] }) {
		f.Speeds = append(slices.Clone(speeds), ui.SpeedOption{Value: f.Values["speed"], Label: f.Values["speed"] + " ms/s"})
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
			Designs:  strings.Join(designsTouchedBy(fault), " "),
			NoEffect: noEffect(fault, f.Values["design"], f.Values["compare"]),
		})
	}
	return f
}

// designOptions lists every design with its summary, in teaching order.
func designOptions() []ui.DesignOption {
	var out []ui.DesignOption
	for _, d := range sim.Designs() {
		out = append(out, ui.DesignOption{Name: d.Name, Summary: d.Summary})
	}
	return out
}

// designsTouchedBy lists the designs fault can fire in.
func designsTouchedBy(fault sim.Fault) []string {
	var out []string
	for _, d := range sim.Designs() {
		if slices.Contains(d.Faults, fault) {
			out = append(out, d.Name)
		}
	}
	return out
}

// noEffect says, when none of the chosen designs can be touched by fault,
// that the slider will do nothing; static/form.js writes the same words when
// the choice changes.
func noEffect(fault sim.Fault, chosen ...string) string {
	var names []string
	for _, name := range chosen {
		d, ok := sim.LookupDesign(name)
		if !ok {
			continue
		}
		if slices.Contains(d.Faults, fault) {
			return ""
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return ""
	}
	return "no effect on " + strings.Join(names, " or ") + ": nothing there for it to act on"
}
