package lessons

import (
	"context"
	"errors"
	"fmt"
	"html"
	"os"
	"strings"
	"testing"

	"partialtruth/checklist"
	"partialtruth/sim"
)

func readGood(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/good.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGoodLessonParsesIntoItsSteps(t *testing.T) {
	l, err := Parse("good.md", []byte(readGood(t)))
	if err != nil {
		t.Fatal(err)
	}
	if l.ID != "trainer-dual-write" || l.Title != "A trainer's lesson" || len(l.Teaches) != 1 {
		t.Errorf("front matter read as id %q title %q teaches %v", l.ID, l.Title, l.Teaches)
	}
	var kinds []string
	for _, st := range l.Steps {
		kinds = append(kinds, string(st.Kind))
	}
	if got := strings.Join(kinds, " "); got != "read predict run reveal challenge" {
		t.Errorf("steps %q", got)
	}
	if l.Steps[1].Predict.Key != "lost" || l.Steps[1].Predict.Max != 50 || l.RunStep(1) != 2 {
		t.Errorf("prediction %+v answered by step %d", l.Steps[1].Predict, l.RunStep(1))
	}
	if l.Steps[3].Reveal.Predict != 1 || l.Steps[3].Reveal.Event != "lost" {
		t.Errorf("reveal %+v", l.Steps[3].Reveal)
	}
	if got := l.Steps[2].Run.Query(); got != "design=dual-write&seed=42&payments=50&faults=bus.publish.fail=0.2&latency=5ms&jitter=2ms&deadline=10m0s" {
		t.Errorf("run query %q", got)
	}
	if ps := Check(context.Background(), l); len(ps) > 0 {
		t.Errorf("check: %v", ps)
	}
}

func TestRenderFillsNumbersFromTheRun(t *testing.T) {
	l, err := Parse("good.md", []byte(readGood(t)))
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := l.Result(3)
	if err != nil {
		t.Fatal(err)
	}
	h, err := l.Render(3)
	if err != nil {
		t.Fatal(err)
	}
	ev := res.Report.FirstViolation["lost"]
	want := fmt.Sprintf(`<p>%d were lost, the first at <a href="#event-%d">event %d</a>.</p>`, res.Report.Lost, ev, ev)
	if strings.TrimSpace(string(h)) != want {
		t.Errorf("rendered\n%s\nwant\n%s", h, want)
	}
	if strings.Contains(string(h), "step") || strings.Contains(string(h), "event: lost") {
		t.Errorf("the step block leaked into the prose: %s", h)
	}
	v, text, err := l.Measured(3)
	if err != nil || v != int64(res.Report.Lost) || text != fmt.Sprint(res.Report.Lost) {
		t.Errorf("Measured = %d %q %v; want %d", v, text, err, res.Report.Lost)
	}
}

func TestRawHTMLInALessonIsLeftOut(t *testing.T) {
	src := strings.Replace(readGood(t), "The service saves, then publishes.", "The service saves. <script>alert(1)</script>", 1)
	l, err := Parse("good.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	h, err := l.Render(0)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(h), "<script") {
		t.Errorf("raw HTML reached the page: %s", h)
	}
}

func TestSnippetsAreTheChecklistsAndTheDesignsOwnCode(t *testing.T) {
	src := strings.Replace(readGood(t), "The service saves, then publishes.",
		"{{bad \"atomic-publish\"}}\n\n{{source \"outbox-idempotent\" \"consumer\"}}", 1)
	l, err := Parse("good.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	h, err := l.Render(0)
	if err != nil {
		t.Fatal(err)
	}
	it, _ := checklist.ItemByID("atomic-publish")
	fns, err := sim.DesignSource("outbox-idempotent")
	if err != nil {
		t.Fatal(err)
	}
	want := `<pre><code class="language-go">` + it.Bad + "\n</code></pre>\n" +
		`<pre><code class="language-go">` + fns[len(fns)-1].Code + "\n</code></pre>\n"
	if html.UnescapeString(string(h)) != want {
		t.Errorf("rendered\n%s\nwant\n%s", h, want)
	}
}

// TestMalformedLessonsNameFileLineAndWhat changes one thing in a good
// lesson and expects the loader to name the line and the problem.
func TestMalformedLessonsNameFileLineAndWhat(t *testing.T) {
	cases := []struct {
		name, old, new string
		at             string // text on the line the problem must name; "" for line 1
		want           string
	}{
		{"no front matter", "---\nid:", "id:", "", "front matter is missing"},
		{"front matter not closed", "teaches: [atomic-publish]\n---", "teaches: [atomic-publish]", "", "front matter is not closed"},
		{"bad YAML", "title: A trainer's lesson", "title: a: b", "title:", "YAML: mapping values are not allowed"},
		{"unknown field", "summary:", "level: hard\nsummary:", "level: hard", `field "level" is unknown`},
		{"missing title", "title: A trainer's lesson\n", "", "id:", `field "title" is missing`},
		{"bad id", "id: trainer-dual-write", "id: Trainer Lesson", "id: Trainer", "id \"Trainer Lesson\" is not allowed"},
		{"unknown checklist item", "teaches: [atomic-publish]", "teaches: [atomic-publish,\n  atomic-publishing]", "atomic-publishing", `checklist item "atomic-publishing" is unknown`},
		{"unknown step kind", "## Predict: How many", "## Predikt: How many", "## Predikt", `step kind "Predikt" is unknown`},
		{"text before the first step", "## Read\n", "Hello.\n\n## Read\n", "Hello.", "text before the first step"},
		{"unknown design", "design=dual-write&payments=50&faults=bus.publish.fail=0.2\nexpect", "design=dual-writes&payments=50&faults=bus.publish.fail=0.2\nexpect", "design=dual-writes", `design "dual-writes" is unknown`},
		{"unknown fault", "bus.publish.fail=0.2\nexpect", "bus.publish.fails=0.2\nexpect", "bus.publish.fails", `fault "bus.publish.fails" is unknown`},
		{"a run too big for a lesson", "design=dual-write&payments=50&faults=bus.publish.fail=0.2\nexpect", "design=dual-write&payments=5000&faults=bus.publish.fail=0.2\nexpect", "payments=5000", "payments 5000 is more than a lesson runs; allowed: 1 to 2000"},
		{"unknown scenario parameter", "payments=50&faults=bus.publish.fail=0.2\nexpect", "payments=50&speed=4\nexpect", "speed=4", `scenario parameter "speed" is unknown`},
		{"unknown report key in a prediction", "number: lost", "number: losts", "number: losts", `report key "losts" is unknown`},
		{"unknown report key in an expectation", "expect: lost > 0", "expect: lots > 0", "expect: lots", `report key "lots" is unknown`},
		{"unknown report key in prose", `{{report "lost"}} were lost`, `{{report "lots"}} were lost`, `{{report "lots"}}`, `report key "lots" is unknown`},
		{"unknown checklist item in a snippet", "The service saves, then publishes.", "{{bad \"atomic-publishing\"}}", "{{bad", `bad: checklist item "atomic-publishing" is unknown`},
		{"a design's code it does not have", "The service saves, then publishes.", "{{source \"dual-write\" \"relay\"}}", "{{source", `source: design dual-write has no "relay" code; it has service, consumer`},
		{"unknown template function", `{{report "lost"}} were lost`, `{{reprot "lost"}} were lost`, `{{reprot`, `function "reprot" not defined`},
		{"a number before the run", "Of {{scenario", "Of {{report \"lost\"}} and {{scenario", `{{report "lost"}} and`, "comes before the run"},
		{"a key the design does not measure", `{{report "lost"}} were lost`, `{{report "double_charges"}} were lost`, `{{report "double_charges"}}`, "not measured by design dual-write"},
		{"unknown event key", "event: lost", "event: losses", "event: losses", `event "losses" is not a violation key`},
		{"run without settings", "```step\nscenario: design=dual-write&payments=50&faults=bus.publish.fail=0.2\nexpect: lost > 0\n```\n", "", "## Run", "a run step needs a ```step block"},
		{"two step blocks", "expect: lost > 0\n```\n", "expect: lost > 0\n```\n\n```step\nexpect: lost > 1\n```\n", "```step\nexpect: lost > 1", "second"},
		{"expect-compare without a compare design", "expect: lost > 0", "expect: lost > 0\nexpect-compare: lost = 0", "expect-compare:", "expect-compare needs a compare design"},
		{"unknown settings field", "max: 50", "max: 50\nmaximum: 60", "maximum: 60", `field "maximum" is unknown in a predict step`},
		{"may names nothing known", "may: [design]", "may: [desing]", "may: [desing]", `may: "desing" is neither`},
		{"goal key neither design measures", "goal: lost = 0 and phantom = 0", "goal: double_charges = 0", "goal: double", "measured by neither design"},
		{"bad goal operator", "goal: lost = 0 and phantom = 0", "goal: lost => 0", "goal: lost", `operator "=>" is unknown`},
		{"predict without a run after it", "## Run\n\n```step\nscenario: design=dual-write&payments=50&faults=bus.publish.fail=0.2\nexpect: lost > 0\n```\n", "", "## Predict", "needs a run step after it"},
	}
	good := readGood(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(good, c.old) {
				t.Fatalf("the good lesson has no %q", c.old)
			}
			src := strings.Replace(good, c.old, c.new, 1)
			_, err := Parse("good.md", []byte(src))
			if err == nil {
				t.Fatalf("parsed without an error:\n%s", src)
			}
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error %T is not Problems: %v", err, err)
			}
			line := 1
			if c.at != "" {
				i := strings.Index(src, c.at)
				if i < 0 {
					t.Fatalf("test is wrong: no %q in the changed file", c.at)
				}
				line = 1 + strings.Count(src[:i], "\n")
			}
			prefix := fmt.Sprintf("good.md:%d: ", line)
			for _, p := range ps {
				if strings.HasPrefix(p.Error(), prefix) && strings.Contains(p.Msg, c.want) {
					return
				}
			}
			t.Errorf("want %s…%s…; got\n%v", prefix, c.want, err)
		})
	}
}
