package checklist

import (
	"bufio"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"partialtruth/sim"
)

// reportKeys lists every JSON key sim.Report can carry.
func reportKeys() map[string]bool {
	keys := map[string]bool{}
	rt := reflect.TypeFor[sim.Report]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		keys[name] = true
	}
	for _, k := range sim.FamilyReportKeys() {
		keys[k] = true
	}
	return keys
}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

func TestItemsAreCompleteAndConsistent(t *testing.T) {
	if n := len(items); n < 12 || n > 20 {
		t.Errorf("%d items; the checklist promises 12 to 20", n)
	}
	reportKeys := reportKeys()
	seen := map[string]bool{}
	for _, it := range items {
		if !idPattern.MatchString(it.ID) || seen[it.ID] {
			t.Errorf("id %q is not kebab-case or is not unique", it.ID)
		}
		seen[it.ID] = true
		good := withSnippet(it).Good
		for name, s := range map[string]string{"Title": it.Title, "Question": it.Question, "Why": it.Why, "Bad": it.Bad, "Good": good} {
			if strings.TrimSpace(s) == "" {
				t.Errorf("%s: %s is empty", it.ID, name)
			}
		}
		if !strings.HasSuffix(it.Question, "?") {
			t.Errorf("%s: the question does not end with a question mark", it.ID)
		}
		if len(it.Invariants) == 0 && it.Gap == "" {
			t.Errorf("%s: no invariant and no Gap saying why", it.ID)
		}
		if len(it.Invariants) > 0 && len(it.Exercise) == 0 {
			t.Errorf("%s: invariants but nothing that exercises them", it.ID)
		}
		for _, x := range it.Exercise {
			if slices.Contains(it.Invariants, x) {
				t.Errorf("%s: %s both counts violations and exercises the item; a violation cannot prove a pass", it.ID, x)
			}
		}
		for _, k := range slices.Concat(it.Invariants, it.Costs) {
			if !reportKeys[k] {
				t.Errorf("%s: report key %q is not in sim.Report", it.ID, k)
			}
			if !slices.ContainsFunc(sim.Designs(), func(d sim.Design) bool { return slices.Contains(d.Metrics, k) }) {
				t.Errorf("%s: report key %q is measured by no design", it.ID, k)
			}
		}
		for _, x := range slices.Concat(it.Exercise, []string{it.Part}) {
			if x != "" && !reportKeys[x] {
				t.Errorf("%s: %q is not a report key", it.ID, x)
			}
		}
		for _, x := range it.TurnOn {
			if _, known := sim.LookupFault(x); !known {
				t.Errorf("%s: turn_on %q is not a fault", it.ID, x)
			}
		}
		if (it.Part == "") != (it.PartName == "") {
			t.Errorf("%s: part %q named %q: want both or neither", it.ID, it.Part, it.PartName)
		}
		if len(it.Invariants) > 0 {
			if it.Situation == "" {
				t.Errorf("%s: judged by runs but names no situation", it.ID)
			}
			if _, err := it.Rerun.Scenario("outbox-idempotent"); err != nil || it.Rerun.Payments == 0 {
				t.Errorf("%s: rerun %+v is not a scenario: %v", it.ID, it.Rerun, err)
			}
		}
		for _, d := range it.Demos {
			for _, design := range []string{d.Bad, d.Good} {
				if _, ok := sim.LookupDesign(design); !ok {
					t.Errorf("%s: demo design %q does not exist", it.ID, design)
				}
			}
			if _, err := sim.ParseFaults(d.Faults); err != nil {
				t.Errorf("%s: demo faults %q: %v", it.ID, d.Faults, err)
			}
		}
	}
}

// TestItemsLeavesOutDemosOfMissingDesigns checks that no link the
// checklist shows starts a run that would be refused.
func TestItemsLeavesOutDemosOfMissingDesigns(t *testing.T) {
	for _, it := range Items() {
		for _, d := range it.Demos {
			for _, design := range []string{d.Bad, d.Good} {
				if _, err := d.Scenario(design); err != nil {
					t.Errorf("%s: demo %q is shown but does not run: %v", it.ID, d.Label(), err)
				}
			}
		}
	}
	exists := func(name string) bool { _, ok := sim.LookupDesign(name); return ok }
	for i, it := range Items() {
		want := 0
		for _, d := range items[i].Demos {
			if exists(d.Bad) && exists(d.Good) {
				want++
			}
		}
		if len(it.Demos) != want {
			t.Errorf("%s shows %d demos; %d have both designs in the simulator", it.ID, len(it.Demos), want)
		}
	}
}

func TestPlayURLRoundTripsThroughFromParams(t *testing.T) {
	sc := sim.DefaultScenario()
	sc.Seed = 7
	sc.Payments = 1000
	sc.Faults, _ = sim.ParseFaults("bus.publish.fail=0.1,net.drop=0.02")
	u := PlayURL(sc, "outbox-idempotent")
	if !strings.Contains(u, "faults=net.drop=0.02,bus.publish.fail=0.1") {
		t.Errorf("faults are not readable in %s", u)
	}
	got, compare := scenarioOf(t, u)
	if got != sc || compare != "outbox-idempotent" {
		t.Errorf("%s parses back to %+v compare %q, want %+v", u, got, compare, sc)
	}
}

// scenarioOf parses a playground link the way the server does.
func scenarioOf(t *testing.T, link string) (sim.Scenario, string) {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("%s: %v", link, err)
	}
	if u.Path != "/play" {
		t.Errorf("%s: path %q, want /play", link, u.Path)
	}
	q := u.Query()
	sc, err := sim.FromParams(q.Get)
	if err != nil {
		t.Fatalf("%s: %v", link, err)
	}
	return sc, q.Get("compare")
}

var (
	mdHeading  = regexp.MustCompile("^## ([0-9]+)\\. (.+) \\(`([a-z0-9-]+)`\\)$")
	mdQuestion = regexp.MustCompile(`^- \[ \] (.+)$`)
	mdLink     = regexp.MustCompile(`^- \[(.+)\]\((.+)\)$`)
)

// TestMarkdownRoundTripsTheItems parses the export back and checks it
// holds every item, in order, with its question and every demo link, and
// that each link runs the demo's scenario.
func TestMarkdownRoundTripsTheItems(t *testing.T) {
	var b strings.Builder
	if err := WriteMarkdown(&b, "https://pt.example/"); err != nil {
		t.Fatal(err)
	}
	type parsed struct {
		n               int
		id, title, q    string
		links, captions []string
	}
	var got []parsed
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	inCode := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			inCode = !inCode
			continue
		}
		if inCode {
			continue
		}
		if m := mdHeading.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			got = append(got, parsed{n: n, title: m[2], id: m[3]})
			continue
		}
		if len(got) == 0 {
			continue
		}
		cur := &got[len(got)-1]
		if m := mdLink.FindStringSubmatch(line); m != nil {
			cur.captions = append(cur.captions, m[1])
			cur.links = append(cur.links, m[2])
		} else if m := mdQuestion.FindStringSubmatch(line); m != nil {
			cur.q = m[1]
		}
	}
	want := Items()
	if len(got) != len(want) {
		t.Fatalf("parsed %d items from the Markdown, want %d", len(got), len(want))
	}
	for i, it := range want {
		g := got[i]
		if g.n != i+1 || g.id != it.ID || g.title != it.Title || g.q != it.Question {
			t.Errorf("item %d: parsed %d %q %q %q, want %d %q %q %q", i, g.n, g.id, g.title, g.q, i+1, it.ID, it.Title, it.Question)
		}
		if len(g.links) != len(it.Demos) {
			t.Errorf("%s: %d links, want %d", it.ID, len(g.links), len(it.Demos))
			continue
		}
		for j, d := range it.Demos {
			link, ok := strings.CutPrefix(g.links[j], "https://pt.example")
			if !ok || g.captions[j] != d.Label() {
				t.Errorf("%s: link %q %q is not on the base URL or not captioned %q", it.ID, g.captions[j], g.links[j], d.Label())
				continue
			}
			wantSc, _ := d.Scenario(d.Bad)
			if gotSc, compare := scenarioOf(t, link); gotSc != wantSc || compare != d.Good {
				t.Errorf("%s: link runs %+v against %q, want %+v against %q", it.ID, gotSc, compare, wantSc, d.Good)
			}
		}
	}
}

// A good snippet cut from a design is the design's code, word for word:
// it appears in the source the playground shows for the design that runs
// it, and its link names that design and function.
func TestGoodSnippetsAreCutFromTheCodeThatRuns(t *testing.T) {
	cut := 0
	for _, it := range Items() {
		if it.GoodFrom == "" {
			if it.GoodFunc != "" || it.SourceURL() != "" {
				t.Errorf("%s: a link to %s, but no snippet", it.ID, it.GoodFunc)
			}
			continue
		}
		cut++
		src, err := sim.DesignSource(it.GoodDesign)
		if err != nil {
			t.Fatalf("%s: %v", it.ID, err)
		}
		i := slices.IndexFunc(src, func(f sim.SourceFunc) bool { return f.Name == it.GoodFunc })
		if i < 0 {
			t.Errorf("%s: design %s runs no function %s", it.ID, it.GoodDesign, it.GoodFunc)
			continue
		}
		for line := range strings.SplitSeq(it.Good, "\n") {
			if !strings.Contains(src[i].Code, strings.TrimSpace(line)) {
				t.Errorf("%s: line %q of Good is not in %s", it.ID, line, it.GoodFunc)
			}
		}
		if want := "/source/" + it.GoodDesign + "#" + it.GoodFunc; it.SourceURL() != want {
			t.Errorf("%s: SourceURL %q, want %q", it.ID, it.SourceURL(), want)
		}
	}
	if cut == 0 {
		t.Error("no item's good code is cut from a design")
	}
}
