package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// laneCheck is page script: for every diagram, the smallest lane-name font
// size in px and whether any two lane names' boxes overlap.
const laneCheck = `(() => {
  let minFont = 1e9, overlaps = [];
  for (const svg of document.querySelectorAll("svg.diagram")) {
    const boxes = [...svg.querySelectorAll(".lane-name")].map((t) => [t.textContent, t.getBoundingClientRect()]);
    for (const [, b] of boxes) minFont = Math.min(minFont, b.height && parseFloat(getComputedStyle(svg.querySelector(".lane-name")).fontSize));
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [n1, a] = boxes[i], [n2, b] = boxes[j];
        if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) overlaps.push(n1 + "/" + n2);
      }
  }
  return { minFont, overlaps };
})()`

// TestBrowserTheDiagramReadsWithoutHovering: in the handbook's comparison
// the failed publish is drawn as a dashed line with a cross toward the
// bus, rows that matter carry a note, lane names never overlap, the
// source panel marks the line the selected event ran, and the presenter
// view draws lane names at 16 px or more.
func TestBrowserTheDiagramReadsWithoutHovering(t *testing.T) {
	b := newBrowser(t)
	b.do(t, "play the example through; it lands on the first loss",
		chromedp.Navigate(b.base+"/play?design=dual-write&compare=outbox-idempotent&seed=42&payments=200&faults=bus.publish.fail=0.1&speed=0&autoplay=1"),
		waitState("done"), chromedp.WaitVisible(chromedp.CSS(`#details[data-selected-side="0"]`)))
	type look struct {
		Failed  int      `json:"failed"`
		Crosses int      `json:"crosses"`
		Tags    []string `json:"tags"`
		Ran     string   `json:"ran"`
		Said    string   `json:"said"`
	}
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[look](`(() => {
  const side = document.querySelector('section.side[data-side="0"]');
  return {
    failed: side.querySelectorAll(".diagram line.arrow.dropped").length,
    crosses: side.querySelectorAll(".diagram line.x").length,
    tags: [...document.querySelectorAll(".diagram text.tag")].map((t) => t.textContent),
    ran: [...side.querySelectorAll(".source .ln.ran")].map((l) => l.textContent).join("\n"),
    said: side.querySelector(".source-ran").textContent,
  };
})()`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Failed == 0 || got.Crosses < 2 {
		t.Errorf("the failed publish is not drawn as a dashed line with a cross: %d dashed lines, %d cross strokes", got.Failed, got.Crosses)
	}
	if !strings.Contains(strings.Join(got.Tags, ","), "money moved") {
		t.Errorf("no row near the first loss says money moved; notes drawn: %v", got.Tags)
	}
	if !strings.Contains(got.Ran, "s.Bus.Publish(") || !strings.Contains(got.Said, "saveThenPublish") {
		t.Errorf("the source panel marks %q (%q); want dual write's s.Bus.Publish line in saveThenPublish", got.Ran, got.Said)
	}
	type lanes struct {
		MinFont  float64  `json:"minFont"`
		Overlaps []string `json:"overlaps"`
	}
	normal, err := chromedp.Run(b.ctx, chromedp.Evaluate[lanes](laneCheck))
	if err != nil {
		t.Fatal(err)
	}
	if len(normal.Overlaps) > 0 {
		t.Errorf("lane names overlap: %v", normal.Overlaps)
	}
	b.do(t, "open the presenter view", chromedp.Click(chromedp.ID("presenter")), chromedp.WaitVisible(chromedp.CSS(`body.presenting #presenter[aria-pressed="true"]`)))
	big, err := chromedp.Run(b.ctx, chromedp.Evaluate[lanes](laneCheck))
	if err != nil {
		t.Fatal(err)
	}
	if big.MinFont < 16 || len(big.Overlaps) > 0 {
		t.Errorf("presenter view: lane names at %.1f px (want 16 or more), overlapping %v", big.MinFont, big.Overlaps)
	}
	b.noConsoleErrors(t)
}
