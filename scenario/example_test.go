package scenario_test

import (
	"fmt"

	"github.com/primeload/primeload/scenario"
)

func ExampleTemplate_AppendTo() {
	url := scenario.MustCompile("/api/goods-received/{{ goodsId }}/?port={{ port }}")
	c := &scenario.Context{Vars: map[string]any{"goodsId": 42, "port": "Accra"}}
	fmt.Println(string(url.AppendTo(nil, c)))
	// Output: /api/goods-received/42/?port=Accra
}

func ExampleValue_AppendJSON() {
	body, err := scenario.CompileValue(scenario.Pairs{
		{Key: "goods_id", Value: "{{ goodsId }}"},
		{Key: "status", Value: "in_transit"},
		{Key: "note", Value: "from {{ port }}"},
	})
	if err != nil {
		panic(err)
	}
	c := &scenario.Context{Vars: map[string]any{"goodsId": 42, "port": "Accra"}}
	fmt.Println(string(body.AppendJSON(nil, c)))
	// Output: {"goods_id":42,"status":"in_transit","note":"from Accra"}
}

func ExampleParse() {
	_, err := scenario.Parse("load-test.yml", []byte(`config:
  target: http://127.0.0.1:8080
  phases:
    - duration: 60
      arrivalRate: fast
scenarios:
  - flow:
      - get:
          url: "/api/goods-received/{{ goodsId }}/"
`), scenario.LoadOptions{})
	fmt.Println(err)
	// Output:
	// load-test.yml:5:20: config.phases[0].arrivalRate: must be a positive number, got "fast"
	// load-test.yml:9:37: scenarios[0].flow[0].get.url: {{ goodsId }}: goodsId is not defined by config.variables, payload fields, an earlier capture's "as" or --var
}
