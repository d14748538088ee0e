package checklist

import (
	"fmt"
	"io"
	"strings"
)

// Intro is the checklist's opening paragraph, shared by the reference page
// and the Markdown export so both say the same thing.
const Intro = "Ask these questions of any change that keeps state in more than one place: a service and its " +
	"database, a database and a message bus, two regions, a cache. Each item names the report keys that count " +
	"its violations and the faults that test it, and links to a run of the Partial Truth simulator where one " +
	"design breaks it and another keeps it, on the same seed and the same faults."

// Title is the checklist's heading.
const Title = "Self-review checklist: state in more than one place"

// Label describes the demo in a line: what runs against what, under which
// faults.
func (d Demo) Label() string {
	s := d.Bad + " against " + d.Good
	if d.Faults != "" {
		s += " under " + d.Faults
	} else {
		s += " with no faults"
	}
	if d.Isolation != "" {
		s += " at " + d.Isolation + " isolation"
	}
	return fmt.Sprintf("%s, seed %d", s, d.Seed)
}

// CodeLang names the language of a code sample, for Markdown fences and
// the page's class names: SQL samples start with a comment or a keyword.
func CodeLang(code string) string {
	if strings.HasPrefix(code, "--") || strings.HasPrefix(code, "SELECT") {
		return "sql"
	}
	return "go"
}

// WriteMarkdown writes the checklist as Markdown for a pull request:
// GitHub-flavoured, one task-list box per item, the why and the code pair
// under it, and each demo as an absolute link built on base (for example
// "http://localhost:8080"), so the links work outside the app.
func WriteMarkdown(w io.Writer, base string) error {
	base = strings.TrimSuffix(base, "/")
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n", Title, Intro)
	for i, it := range Items() {
		fmt.Fprintf(&b, "\n## %d. %s (`%s`)\n\n", i+1, it.Title, it.ID)
		fmt.Fprintf(&b, "- [ ] %s\n\n", it.Question)
		fmt.Fprintf(&b, "**Why it matters.** %s\n\n", it.Why)
		fmt.Fprintf(&b, "Bad:\n\n```%s\n%s\n```\n\n", CodeLang(it.Bad), it.Bad)
		fmt.Fprintf(&b, "Good:\n\n```%s\n%s\n```\n\n", CodeLang(it.Good), it.Good)
		if it.SourceURL() != "" {
			fmt.Fprintf(&b, "Cut from [`%s`](%s%s), the code the design `%s` runs, on SQLite: on PostgreSQL write `$1`, `$2`… for its `?` placeholders.\n\n",
				it.GoodFunc, base, it.SourceURL(), it.GoodDesign)
		}
		if it.Follows != "" {
			fmt.Fprintf(&b, "**Follows.** %s\n\n", it.Follows)
		}
		fmt.Fprintf(&b, "**Evidence.** %s\n", it.EvidenceSummary())
		for _, d := range it.Demos {
			fmt.Fprintf(&b, "- [%s](%s%s)\n", d.Label(), base, d.URL())
		}
		if it.Gap != "" {
			fmt.Fprintf(&b, "\n**What runs cannot show.** %s\n", it.Gap)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// EvidenceSummary says in a sentence or two how runs judge the item: the
// situation it guards against, which report keys count its violations and
// which count the situation, and the part a design must have.
func (it Item) EvidenceSummary() string {
	if len(it.Invariants) == 0 {
		return "No run can judge this item yet."
	}
	s := "The situation it guards against: " + it.Situation + ". Violations are counted by " + joinAnd(code(it.Invariants))
	if len(it.Exercise) > 0 {
		s += "; a run tests it only if that situation arose, as counted by " + joinOr(code(it.Exercise))
	}
	if it.Part != "" {
		s += "; a design without " + article(it.PartName) + " (" + code([]string{it.Part})[0] + " 0) fails it"
	}
	if len(it.Costs) > 0 {
		s += "; the price of holding it is counted by " + joinAnd(code(it.Costs))
	}
	if len(it.Demos) == 0 {
		s += ". The simulator has no design that shows it yet."
	} else {
		s += ". See it happen:"
	}
	return s
}

func code(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = "`" + x + "`"
	}
	return out
}

// article puts "a" or "an" before a noun phrase.
func article(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}
