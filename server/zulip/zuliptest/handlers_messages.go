package zuliptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"
)

// maxMessageLength is Zulip's default MAX_MESSAGE_LENGTH, in characters.
const maxMessageLength = 10000

// handleSendMessage is POST /messages, for direct messages only, in the
// order of Zulip's send_message_backend and check_message.
func (s *Server) handleSendMessage(w http.ResponseWriter, _ *http.Request, in *input, me User) {
	s.mu.Lock()
	level := s.level
	rp := s.sendMessageLocked(in, me)
	s.mu.Unlock()
	s.write(w, level, rp)
}

func (s *Server) sendMessageLocked(in *input, me User) reply {
	typ, ok := in.param("type")
	if !ok {
		return missingArgument("type")
	}
	switch {
	case typ == "private", typ == "direct" && s.level >= 174:
	case typ == "stream", typ == "channel" && s.level >= 248:
		return badRequest("zuliptest: channel messages are not emulated")
	default:
		return badRequest(MsgInvalidType)
	}
	content, ok := in.param("content")
	if !ok {
		return missingArgument("content")
	}
	to, ok := in.param("to")
	if !ok {
		return missingArgument("to")
	}
	ids, emails, msg := parseRecipients(to)
	if msg != "" {
		return badRequest(msg)
	}
	if len(ids) == 0 && len(emails) == 0 {
		return badRequest(MsgNoRecipients)
	}
	var recipients []User
	for _, id := range ids {
		u, found := s.users[id]
		if !found {
			return badRequest(fmt.Sprintf(MsgInvalidUserID, id))
		}
		recipients = append(recipients, u)
	}
	for _, e := range emails {
		u, found := s.byAPIEmailLocked(e)
		if !found {
			return badRequest(fmt.Sprintf(MsgInvalidEmail, e))
		}
		recipients = append(recipients, u)
	}
	body, msg := normalizeBody(content)
	if msg != "" {
		return badRequest(msg)
	}
	for _, u := range recipients {
		if u.Deactivated {
			return badRequest(fmt.Sprintf(MsgRecipientDeactivated, s.apiEmailLocked(u)))
		}
	}
	toIDs := make([]int, 0, len(recipients))
	for _, u := range recipients {
		toIDs = append(toIDs, u.ID)
	}
	slices.Sort(toIDs)
	s.nextMessageID++
	s.messages = append(s.messages, DirectMessage{
		ID:       s.nextMessageID,
		SenderID: me.ID,
		To:       slices.Compact(toIDs),
		Content:  body,
		At:       s.now().UTC(),
	})
	supported := []string{"type", "to", "content", "topic", "subject", "queue_id", "local_id", "read_by_sender"}
	return success(in.unsupported(supported...), map[string]any{"id": s.nextMessageID})
}

// missingArgument is Zulip's RequestVariableMissingError.
func missingArgument(name string) reply {
	return reply{
		status: http.StatusBadRequest,
		code:   CodeMissingParam,
		msg:    fmt.Sprintf(MsgMissingArgument, name),
		fields: map[string]any{"var_name": name},
	}
}

// parseRecipients reads "to" like Zulip's extract_private_recipients: a JSON
// list of user IDs or of API emails, or a comma-separated string of emails.
// A bare number is not a list. It returns the distinct IDs (ascending) or
// emails, or the error message.
func parseRecipients(to string) (ids []int, emails []string, msg string) {
	var data any
	dec := json.NewDecoder(bytes.NewReader([]byte(to)))
	dec.UseNumber()
	if err := dec.Decode(&data); err != nil || dec.More() {
		data = to
	}
	if str, ok := data.(string); ok {
		parts := strings.Split(str, ",")
		list := make([]any, len(parts))
		for i, p := range parts {
			list[i] = p
		}
		data = list
	}
	list, ok := data.([]any)
	if !ok {
		return nil, nil, MsgRecipientsType
	}
	if len(list) == 0 {
		return nil, nil, ""
	}
	if _, isString := list[0].(string); isString {
		for _, v := range list {
			e, ok := v.(string)
			if !ok {
				return nil, nil, MsgRecipientsMixed
			}
			if e = strings.TrimSpace(e); e != "" && !slices.Contains(emails, e) {
				emails = append(emails, e)
			}
		}
		return nil, emails, ""
	}
	for i, v := range list {
		id, ok := jsonInt(v)
		if !ok && i == 0 {
			return nil, nil, MsgRecipientsType
		}
		if !ok {
			return nil, nil, MsgRecipientsMixed
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil, ""
}

// jsonInt reports whether v is a JSON integer (not 1.0, not 1e3), and its
// value.
func jsonInt(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok || strings.ContainsAny(string(n), ".eE") {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil {
		return 0, false
	}
	return int(i), true
}

// normalizeBody is Zulip's normalize_body: strip trailing whitespace and
// leading newlines, refuse empty bodies and NUL, truncate long ones.
func normalizeBody(body string) (string, string) {
	body = strings.TrimLeft(strings.TrimRightFunc(body, unicode.IsSpace), "\n")
	if body == "" {
		return "", MsgEmptyMessage
	}
	if strings.ContainsRune(body, 0) {
		return "", MsgNullBytes
	}
	const truncated = "\n[message truncated]"
	if r := []rune(body); len(r) > maxMessageLength {
		body = string(r[:maxMessageLength-len(truncated)]) + truncated
	}
	return body, ""
}
