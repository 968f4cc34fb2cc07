package main

import (
	"testing"

	"github.com/mattermost/mattermost/server/public/model"
)

// BenchmarkCommandParsing measures how /account is taken apart, on inputs
// that are answered without calling the server (usage and help texts).
func BenchmarkCommandParsing(b *testing.B) {
	p := &Plugin{}
	inputs := []string{"/account", "/account email", "/account EMAIL a b c", "/account link", "/account whatever else"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		resp, _ := p.ExecuteCommand(nil, &model.CommandArgs{Command: inputs[i%len(inputs)]})
		if resp == nil || resp.Text == "" {
			b.Fatal("no reply")
		}
	}
}
