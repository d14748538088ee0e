package web

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"partialtruth/checklist"
	"partialtruth/sim"
)

// parsePage GETs path and parses the HTML, failing unless it is a 200 page.
func parsePage(t *testing.T, h http.Handler, path string) *html.Node {
	t.Helper()
	res := get(t, h, path)
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET %s = %d %s: %.300s", path, res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// walk calls fn for every element under n.
func walk(n *html.Node, fn func(*html.Node)) {
	if n.Type == html.ElementNode {
		fn(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	var rec func(*html.Node)
	rec = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			rec(c)
		}
	}
	rec(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// checkCSPSafe fails on anything the Content-Security-Policy would block:
// inline scripts and style attributes. The import map is the one inline
// script the CSP allows, by its hash (TestPlayLinksOnlyImmutableURLs).
func checkCSPSafe(t *testing.T, doc *html.Node) {
	t.Helper()
	walk(doc, func(n *html.Node) {
		if _, ok := attr(n, "style"); ok {
			t.Errorf("<%s> has a style attribute; the CSP blocks it", n.Data)
		}
		if typ, _ := attr(n, "type"); n.Data == "script" && typ == "importmap" {
			return
		}
		if src, _ := attr(n, "src"); n.Data == "script" && src == "" {
			t.Errorf("inline <script>; the CSP blocks it")
		}
	})
}

func TestChecklistPageHasAnAnchorQuestionAndDemoLinksPerItem(t *testing.T) {
	doc := parsePage(t, newTestServer(t).Handler(), "/checklist")
	checkCSPSafe(t, doc)
	sections := map[string]*html.Node{}
	styles := false
	walk(doc, func(n *html.Node) {
		if id, ok := attr(n, "id"); ok && n.Data == "section" {
			sections[id] = n
		}
		if href, _ := attr(n, "href"); n.Data == "link" && regexp.MustCompile(`^/static/checklist\.[0-9a-f]{12}\.css$`).MatchString(href) {
			styles = true
		}
	})
	if !styles {
		t.Error("the page does not load /static/checklist.css, so it will not print well")
	}
	for _, it := range checklist.Items() {
		sec, ok := sections[it.ID]
		if !ok {
			t.Errorf("no <section id=%q>: /checklist#%s lands nowhere", it.ID, it.ID)
			continue
		}
		body := text(sec)
		for _, want := range []string{it.Title, it.Question, it.Why} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: the section does not say %q", it.ID, want)
			}
		}
		links := map[string]string{}
		walk(sec, func(n *html.Node) {
			if href, ok := attr(n, "href"); ok && n.Data == "a" {
				links[href], _ = attr(n, "data-print-url")
			}
		})
		for _, d := range it.Demos {
			printed, ok := links[d.URL()]
			if !ok {
				t.Errorf("%s: no link to its demo %s", it.ID, d.URL())
			} else if printed != "http://example.com"+d.URL() {
				t.Errorf("%s: printed link %q, want it absolute on the request's origin", it.ID, printed)
			}
		}
	}
}

func TestChecklistStylesheetHasPrintRules(t *testing.T) {
	res := get(t, newTestServer(t).Handler(), "/static/checklist.css")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("@media print")) {
		t.Fatalf("GET /static/checklist.css = %d, print rules present: %v", res.StatusCode, bytes.Contains(body, []byte("@media print")))
	}
}

func TestChecklistMarkdownDownloadsTheExport(t *testing.T) {
	res := get(t, newTestServer(t).Handler(), "/checklist.md")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /checklist.md = %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/markdown; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="checklist.md"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	var want bytes.Buffer
	checklist.WriteMarkdown(&want, "http://example.com")
	if !bytes.Equal(body, want.Bytes()) {
		t.Errorf("/checklist.md differs from the export with links on the request's origin")
	}
}

// TestCompareHasACellPerDesignAndItemProvenByItsRun checks every cell's
// attributes and link against a fresh run of the standard scenario.
func TestCompareHasACellPerDesignAndItemProvenByItsRun(t *testing.T) {
	doc := parsePage(t, newTestServer(t).Handler(), "/compare")
	checkCSPSafe(t, doc)
	type key struct{ design, item string }
	cells := map[key]*html.Node{}
	walk(doc, func(n *html.Node) {
		d, okD := attr(n, "data-design")
		i, okI := attr(n, "data-item")
		if okD && okI {
			k := key{d, i}
			if cells[k] != nil {
				t.Errorf("two cells for %v", k)
			}
			cells[k] = n
		}
	})
	items := checklist.Items()
	designs := sim.Designs()
	if len(cells) != len(items)*len(designs) {
		t.Errorf("%d cells, want %d designs × %d items", len(cells), len(designs), len(items))
	}
	if !strings.Contains(text(doc), checklist.StandardScenario("").Faults.String()) {
		t.Error("the page does not state the standard fault mix")
	}
	for _, d := range designs {
		sc := checklist.StandardScenario(d.Name)
		res, err := sim.Run(sc, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range checklist.Evaluate(res.Report) {
			c := cells[key{d.Name, v.ID}]
			if c == nil {
				t.Errorf("no cell for %s × %s", d.Name, v.ID)
				continue
			}
			if got, _ := attr(c, "data-verdict"); got != v.Verdict {
				t.Errorf("%s × %s: data-verdict %q, want %q", d.Name, v.ID, got, v.Verdict)
			}
			var href string
			walk(c, func(n *html.Node) {
				if n.Data == "a" {
					href, _ = attr(n, "href")
				}
			})
			if href != checklist.PlayURL(sc, "") {
				t.Errorf("%s × %s links to %q, not to the run it was scored from", d.Name, v.ID, href)
			}
		}
	}
	verdict := func(design, item string) string {
		c := cells[key{design, item}]
		if c == nil {
			return ""
		}
		v, _ := attr(c, "data-verdict")
		return v
	}
	if v := verdict("dual-write", "atomic-publish"); v != checklist.Fail {
		t.Errorf("dual-write × atomic-publish is %q; a trainer expects it to fail", v)
	}
	for _, it := range items {
		if v := verdict("outbox-idempotent", it.ID); v == checklist.Fail {
			t.Errorf("outbox-idempotent fails %s under the standard mix", it.ID)
		}
	}
}

// Every good snippet cut from a design links to the whole function: the
// link opens /source/{design}, whose section named after the function
// holds the snippet's every line; an unknown design is a 404.
func TestChecklistSnippetLinksLandOnTheWholeFunction(t *testing.T) {
	h := newTestServer(t).Handler()
	linked := 0
	for _, it := range checklist.Items() {
		if it.SourceURL() == "" {
			continue
		}
		linked++
		path, fn, _ := strings.Cut(it.SourceURL(), "#")
		doc := parsePage(t, h, path)
		var sec *html.Node
		walk(doc, func(n *html.Node) {
			if id, _ := attr(n, "id"); n.Data == "section" && id == fn {
				sec = n
			}
		})
		if sec == nil {
			t.Errorf("%s: %s has no section #%s", it.ID, path, fn)
			continue
		}
		code := text(sec)
		for line := range strings.SplitSeq(it.Good, "\n") {
			if !strings.Contains(code, strings.TrimSpace(line)) {
				t.Errorf("%s: %s#%s lacks the snippet's line %q", it.ID, path, fn, line)
			}
		}
	}
	if linked == 0 {
		t.Error("no checklist item links to a design's source")
	}
	if res := get(t, h, "/source/no-such-design"); res.StatusCode != http.StatusNotFound {
		t.Errorf("/source/no-such-design = %d, want 404", res.StatusCode)
	}
}

// TestCompareGroupsFailuresWithOneRootCause: in each design's column a
// failure from the same first violating event as an item above it says so
// and names that item, which failed in the same column; dual write's lost
// payments fail several items and are one finding.
func TestCompareGroupsFailuresWithOneRootCause(t *testing.T) {
	v, err := compareMatrix()
	if err != nil {
		t.Fatal(err)
	}
	grouped := 0
	for col, d := range v.Designs {
		failed := map[string]bool{}
		for _, row := range v.Rows {
			c := row.Cells[col]
			if c.SameAs != "" {
				if c.Verdict != checklist.Fail || !failed[c.SameAs] {
					t.Errorf("%s %s (%s) says same cause as %s, which did not fail above it", d.Name, c.Item, c.Verdict, c.SameAs)
				}
				if d.Name == "dual-write" {
					grouped++
				}
			}
			if c.Verdict == checklist.Fail {
				failed[c.Item] = true
			}
		}
	}
	if grouped == 0 {
		t.Error("dual write's failures are not grouped: its lost payments fail several items from one event")
	}
}
