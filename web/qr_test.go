package web

import (
	"strings"
	"testing"
)

func TestQRIsAnSVGOfOnePath(t *testing.T) {
	svg, err := qrSVG("http://127.0.0.1:8080/r/K7MQ2R")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(svg, "<svg") || strings.Contains(svg, "style=") || strings.Contains(svg, "<script") {
		t.Fatalf("QR SVG %.200s… is not plain SVG markup", svg)
	}
}
