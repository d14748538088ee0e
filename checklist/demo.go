package checklist

import (
	"net/url"
	"strings"

	"partialtruth/sim"
)

// Demo is a pair of runs on one seed and one fault mix: a design that
// breaks the item and one that keeps it. It is the link a reviewer pastes
// when someone asks "does this really happen?".
type Demo struct {
	// Bad is the design that breaks the item; Good the one that keeps it.
	Bad, Good string
	// Faults is the fault mix in the CLI's and the URL's form; it goes
	// through sim.ParseFaults, so a misspelt name cannot reach a link.
	Faults string
	// Seed and Payments complete the scenario; the rest is the default.
	Seed     uint64
	Payments int
}

// Scenario is the demo's scenario for design, which is Bad or Good.
func (d Demo) Scenario(design string) (sim.Scenario, error) {
	sc := sim.DefaultScenario()
	sc.Design = design
	sc.Seed = d.Seed
	sc.Payments = d.Payments
	f, err := sim.ParseFaults(d.Faults)
	if err != nil {
		return sc, err
	}
	sc.Faults = f
	return sc, sc.Validate()
}

// URL is the playground link that runs Bad and Good side by side.
func (d Demo) URL() string {
	sc, err := d.Scenario(d.Bad)
	if err != nil {
		return "" // availableDemos never lets such a demo out
	}
	return PlayURL(sc, d.Good)
}

// availableDemos keeps the demos whose designs and faults the simulator
// has, so that no page links to a run that would fail to start.
func availableDemos(ds []Demo) []Demo {
	var out []Demo
	for _, d := range ds {
		if _, err := d.Scenario(d.Bad); err != nil {
			continue
		}
		if _, err := d.Scenario(d.Good); err != nil {
			continue
		}
		out = append(out, d)
	}
	return out
}

// PlayURL is the playground link that plays sc, compared with the design
// named compare unless it is empty. The scenario part is built from
// sc.Params, the same names and forms the CLI's flags use, so a link can
// never drift from what the playground parses; it ends with the playback
// settings, so the run plays through as soon as it opens, at a speed that
// shows a few hundred payments in seconds.
func PlayURL(sc sim.Scenario, compare string) string {
	var b strings.Builder
	b.WriteString("/play")
	sep := byte('?')
	add := func(k, v string) {
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(queryValue(v))
	}
	for _, kv := range sc.Params() {
		add(kv[0], kv[1])
	}
	if compare != "" {
		add("compare", compare)
	}
	add("speed", playSpeed)
	add("autoplay", "1")
	return b.String()
}

// playSpeed is the playground's speed for links from the checklist, in
// virtual milliseconds per real second: a 200-payment run lasts about 300
// virtual milliseconds, so it plays through in about five seconds.
const playSpeed = "64"

// queryValue escapes v for a query string but leaves '=' and ',' alone:
// both are legal there, and "faults=bus.publish.fail=0.1,net.drop=0.02"
// stays readable in a pull request.
func queryValue(v string) string {
	return strings.NewReplacer("%3D", "=", "%2C", ",").Replace(url.QueryEscape(v))
}
