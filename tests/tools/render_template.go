// Renders an Ollama Modelfile TEMPLATE with Go's text/template, the engine Ollama uses.
// Reads {"template", "system", "messages": [{"role", "content"}]} as JSON on stdin and writes
// the prompt to stdout. The data mirrors what Ollama passes: .System (the system prompt) and
// .Messages (every message, system ones included, each with .Role and .Content).
// Used by tests/unit/test_ollama.py; standard library only, so it builds offline.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/template"
)

type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type Request struct {
	Template string    `json:"template"`
	System   string    `json:"system"`
	Messages []Message `json:"messages"`
}

func main() {
	var request Request
	if err := json.NewDecoder(os.Stdin).Decode(&request); err != nil {
		fmt.Fprintln(os.Stderr, "bad input:", err)
		os.Exit(2)
	}
	parsed, err := template.New("TEMPLATE").Parse(request.Template)
	if err != nil {
		fmt.Fprintln(os.Stderr, "template does not parse:", err)
		os.Exit(3)
	}
	data := map[string]any{"System": request.System, "Messages": request.Messages, "Prompt": "", "Response": ""}
	if err := parsed.Execute(os.Stdout, data); err != nil {
		fmt.Fprintln(os.Stderr, "template does not render:", err)
		os.Exit(4)
	}
}
