package html

import (
	"fmt"
	"html/template"
)

// Assets are the embedded chart library and page style, for other pages
// that want the report's look and charts (the compare and capacity pages)
// without a second copy of uPlot in the binary.
type Assets struct {
	// UPlotJS carries uPlot's MIT license in a leading comment.
	UPlotJS  template.JS
	UPlotCSS template.CSS
	PageCSS  template.CSS
}

// LoadAssets reads the embedded assets.
func LoadAssets() (Assets, error) {
	read := func(name string) (string, error) {
		b, err := files.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("read embedded %s: %w", name, err)
		}
		return string(b), nil
	}
	var a Assets
	js, err := read("assets/uPlot.iife.min.js")
	if err != nil {
		return a, err
	}
	lic, err := read("assets/uPlot.LICENSE")
	if err != nil {
		return a, err
	}
	css, err := read("assets/uPlot.min.css")
	if err != nil {
		return a, err
	}
	page, err := read("assets/page.css")
	if err != nil {
		return a, err
	}
	// Trusted: these are ours, embedded at build time.
	a.UPlotJS = template.JS("/*\n" + lic + "*/\n" + js)
	a.UPlotCSS, a.PageCSS = template.CSS(css), template.CSS(page)
	return a, nil
}
