package web

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"partialtruth/sim"
)

// After a run, the tables panel queries a node's database: it offers the
// starter queries the design declares, and the starter for duplicate
// ledger entries lists the payments the checker counted as duplicate
// effects, all by keyboard; the panel stays open when the reader steps
// back; a write is refused beside the box; typing ? in the box types it.
func TestBrowserTablesPanelQueriesANodeAfterTheRun(t *testing.T) {
	const query = "design=outbox&compare=outbox-idempotent&seed=7&payments=300&faults=bus.ack.lost=0.2&speed=0&autoplay=1"
	sc := sim.DefaultScenario()
	sc.Design, sc.Seed, sc.Payments, sc.Faults = "outbox", 7, 300, sim.Faults{}.Set(sim.BusAckLost, 0.2)
	res, err := sim.Run(sc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.DuplicateEffects == 0 {
		t.Fatal("the scenario has no duplicate effects; the test needs some")
	}
	b := newBrowser(t)
	side := `[data-design="outbox"] `
	css := func(sel string) chromedp.CSS { return chromedp.CSS(side + sel) }
	b.do(t, "play the run through", chromedp.Navigate(b.base+"/play?"+query), waitState("done"))
	b.do(t, "open the tables panel from the keyboard",
		chromedp.Focus(css(".tb-panel > summary")), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitReady(css(`.tb-db option[value="ledger.db"]`)), chromedp.WaitVisible(css(".tb-starter")))
	schema, err := chromedp.Run(b.ctx, chromedp.Text(css(".tb-schema")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(schema, "CREATE TABLE payments") || !strings.Contains(schema, "outbox_unsent") {
		t.Errorf("service.db's schema reads %q; want payments and the outbox's index", schema)
	}
	// The starters are the ones the design declares for service.db, then
	// its first rows.
	labels, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('`+side+`.tb-starter')].map((b) => b.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := sim.LookupDesign("outbox")
	var want []string
	for _, st := range d.Databases[0].Starters {
		want = append(want, st.Label)
	}
	want = append(want, "First rows of payments")
	if d.Databases[0].Name != "service.db" || !slices.Equal(labels, want) {
		t.Errorf("service.db's starters read %q; want the design's %q", labels, want)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => {
		const s = document.querySelector('`+side+`.tb-db');
		s.value = "ledger.db";
		s.dispatchEvent(new Event("change"));
		return true;
	})()`)); err != nil {
		t.Fatal(err)
	}
	b.do(t, "run the duplicates starter",
		chromedp.Focus(css(`.tb-starter[title^="SELECT payment_id, COUNT(*) FROM ledger_entries"]`)), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(css(".tb-result tbody tr")))
	extra, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('`+side+`.tb-result tbody tr')]
		.reduce((n, tr) => n + Number(tr.cells[1].textContent) - 1, 0)`))
	if err != nil {
		t.Fatal(err)
	}
	if extra != res.Report.DuplicateEffects {
		t.Errorf("the rows add up to %d extra ledger entries; the report counts %d duplicate effects", extra, res.Report.DuplicateEffects)
	}

	b.do(t, "step back from the end: the tables are the run's final state and stay open",
		chromedp.Click(chromedp.ID("step-back")), waitState("paused"),
		chromedp.WaitVisible(css(".tb-result tbody tr")), chromedp.WaitVisible(css(".tb-sql")))
	b.do(t, "type a write and run it with Ctrl+Enter",
		chromedp.Focus(css(".tb-sql")), chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.KeyEvent("DELETE FROM ledger_entries -- ?"),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl)),
		chromedp.WaitVisible(css(".tb-status .bad")))
	msg, err := chromedp.Run(b.ctx, chromedp.Text(css(".tb-status")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "starts with DELETE") || !strings.Contains(msg, "SELECT") {
		t.Errorf("the refusal reads %q; want it to name the statement and what is allowed", msg)
	}
	open, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.getElementById("shortcuts").open`))
	if err != nil || open {
		t.Errorf("typing ? in the SQL box opened the shortcuts (%v)", err)
	}
	// Chromium logs every 4xx fetch; the refused DELETE is the one expected.
	b.mu.Lock()
	defer b.mu.Unlock()
	expected := 0
	for _, e := range b.errors {
		if strings.Contains(e, "status of 400") && expected == 0 {
			expected++
			continue
		}
		t.Errorf("console: %s", e)
	}
}
