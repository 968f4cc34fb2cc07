package zuliptest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// Error code and messages of the event endpoints (Zulip's English texts).
const (
	CodeBadEventQueueID    = "BAD_EVENT_QUEUE_ID"
	MsgBadEventQueueID     = "Bad event queue ID: %s"
	MsgMissingQueueID      = "Missing 'queue_id' argument"
	MsgMissingLastEventID  = "Missing 'last_event_id' argument"
	MsgEventAlreadyPruned  = "An event newer than %d has already been pruned!"
	MsgEventNotInQueue     = "Event %d was not in this queue"
	MsgInvalidJSONArgument = "Argument \"%s\" is not valid JSON."
	MsgInvalidArgument     = "Invalid %s"
)

// registerParams are the parameters of POST /register Zulip knows; the
// emulator acts on event_types and fetch_event_types only.
var registerParams = []string{
	"apply_markdown", "client_gravatar", "include_subscribers", "slim_presence",
	"presence_history_limit_days", "event_types", "all_public_streams",
	"client_capabilities", "fetch_event_types", "narrow",
}

func badEventQueue(id string) reply {
	return reply{status: http.StatusBadRequest, code: CodeBadEventQueueID,
		msg: fmt.Sprintf(MsgBadEventQueueID, id), fields: map[string]any{"queue_id": id}}
}

// stringList reads a JSON-encoded list of strings; absent is nil.
func stringList(in *input, name string) ([]string, bool, reply) {
	raw, ok := in.param(name)
	if !ok {
		return nil, false, reply{}
	}
	var list []string
	if err := json.Unmarshal([]byte(raw), &list); err != nil {
		return nil, false, badRequest(fmt.Sprintf(MsgInvalidJSONArgument, name))
	}
	if list == nil {
		list = []string{}
	}
	return list, true, reply{}
}

// handleRegister is POST /register: a queue for the requester taking
// event_types (every type when absent), and the initial state of
// fetch_event_types (event_types when absent, everything when both are).
// Of that state the emulator fills, for realm, only
// event_queue_longpoll_timeout_seconds, and for realm_user only
// realm_users and realm_non_active_users; other types are ignored, as
// Zulip ignores types it does not know.
func (s *Server) handleRegister(w http.ResponseWriter, _ *http.Request, in *input, me User) {
	s.mu.Lock()
	level := s.level
	rp := s.registerLocked(in, me)
	s.mu.Unlock()
	s.write(w, level, rp)
}

func (s *Server) registerLocked(in *input, me User) reply {
	types, hasTypes, rp := stringList(in, "event_types")
	if rp.status != 0 {
		return rp
	}
	fetch, hasFetch, rp := stringList(in, "fetch_event_types")
	if rp.status != 0 {
		return rp
	}
	if !hasFetch {
		fetch, hasFetch = types, hasTypes
	}
	wants := func(t string) bool { return !hasFetch || slices.Contains(fetch, t) }
	if !hasTypes {
		types = nil
	}
	q := s.registerQueueLocked(me.ID, types)
	version := ZulipVersion(s.level)
	f := map[string]any{
		"queue_id":            q.id,
		"last_event_id":       q.newestAcked,
		"zulip_feature_level": s.level,
		"zulip_version":       version,
	}
	if s.level >= 88 {
		f["zulip_merge_base"] = version
	}
	if wants("realm") && s.level >= 74 {
		f["event_queue_longpoll_timeout_seconds"] = s.longPollTimeoutSecondsLocked()
	}
	if wants("realm_user") {
		active, inactive := []map[string]any{}, []map[string]any{}
		for _, id := range s.order {
			u := s.users[id]
			obj := s.userObjectLocked(me, u, true, false)
			if u.Deactivated {
				inactive = append(inactive, obj)
			} else {
				active = append(active, obj)
			}
		}
		f["realm_users"], f["realm_non_active_users"] = active, inactive
	}
	return success(in.unsupported(registerParams...), f)
}

// handleGetEvents is GET /events, as Zulip's fetch_events: it acknowledges
// the events up to last_event_id, answers at once when events are left (or
// with dont_block), and otherwise waits for one, for a heartbeat, for a
// newer poll of the same queue, or for the client to go away (then it
// answers nothing).
func (s *Server) handleGetEvents(w http.ResponseWriter, r *http.Request, in *input, me User) {
	s.mu.Lock()
	level := s.level
	q, rp := s.startPollLocked(in, me)
	if q == nil {
		s.mu.Unlock()
		s.write(w, level, rp)
		return
	}
	s.events.nextHandler++
	handler := s.events.nextHandler
	q.handler = handler
	q.lastConnect = s.now()
	wake, heartbeat := q.wake, s.events.heartbeat
	s.mu.Unlock()

	timer := time.NewTimer(heartbeat)
	defer timer.Stop()
	for {
		beat := false
		select {
		case <-r.Context().Done():
			s.mu.Lock()
			if q.handler == handler {
				q.handler = 0
			}
			s.mu.Unlock()
			return
		case <-timer.C:
			beat = true
		case <-s.events.closing:
			beat = true
		case <-wake:
		}
		s.mu.Lock()
		if beat && q.handler == handler {
			q.push(map[string]any{"type": "heartbeat"})
		}
		if q.handler != handler || len(q.events) > 0 {
			if q.handler == handler {
				q.handler = 0
			}
			rp := success(nil, map[string]any{"events": cloneEvents(q.events)})
			s.mu.Unlock()
			s.write(w, level, rp)
			return
		}
		wake = q.wake
		s.mu.Unlock()
	}
}

// startPollLocked checks a GET /events and acknowledges events. It returns
// the queue when the poll must wait, or else the answer.
func (s *Server) startPollLocked(in *input, me User) (*eventQueue, reply) {
	unsupported := in.unsupported("queue_id", "last_event_id", "dont_block", "user_client",
		"apply_markdown", "client_gravatar", "all_public_streams", "event_types", "narrow",
		"lifespan_secs", "bulk_message_deletion", "stream_typing_notifications",
		"user_settings_object", "pronouns_field_type_supported", "linkifier_url_template",
		"user_list_incomplete", "include_deactivated_groups", "archived_channels", "empty_topic_name")
	id, ok := in.param("queue_id")
	if !ok {
		return nil, badRequest(MsgMissingQueueID)
	}
	rawLast, ok := in.param("last_event_id")
	if !ok {
		return nil, badRequest(MsgMissingLastEventID)
	}
	last, err := strconv.Atoi(rawLast)
	if err != nil {
		return nil, badRequest(fmt.Sprintf(MsgInvalidArgument, "last_event_id"))
	}
	dontBlock := false
	if v, ok := in.param("dont_block"); ok {
		dontBlock = parseBool(v, false)
	}
	s.gcQueuesLocked()
	q, ok := s.events.queues[id]
	if !ok || q.owner != me.ID {
		return nil, badEventQueue(id)
	}
	if last < q.newestAcked {
		return nil, badRequest(fmt.Sprintf(MsgEventAlreadyPruned, last))
	}
	for len(q.events) > 0 && q.events[0]["id"].(int) <= last {
		q.newestAcked = q.events[0]["id"].(int)
		q.events = q.events[1:]
	}
	if last != q.newestAcked {
		return nil, badRequest(fmt.Sprintf(MsgEventNotInQueue, last))
	}
	if q.handler != 0 {
		// A newer poll finishes the waiting one with what is queued.
		q.handler = 0
		q.wakeUp()
	}
	if len(q.events) > 0 || dontBlock {
		return nil, success(unsupported, map[string]any{"events": cloneEvents(q.events)})
	}
	return q, reply{}
}

// handleDeleteQueue is DELETE /events: Zulip's cleanup_event_queue. A poll
// waiting on the queue answers with what is queued.
func (s *Server) handleDeleteQueue(w http.ResponseWriter, _ *http.Request, in *input, me User) {
	s.mu.Lock()
	level := s.level
	rp := s.deleteQueueLocked(in, me)
	s.mu.Unlock()
	s.write(w, level, rp)
}

func (s *Server) deleteQueueLocked(in *input, me User) reply {
	id, ok := in.param("queue_id")
	if !ok {
		return missingArgument("queue_id")
	}
	s.gcQueuesLocked()
	q, ok := s.events.queues[id]
	if !ok || q.owner != me.ID {
		return badEventQueue(id)
	}
	delete(s.events.queues, id)
	if q.handler != 0 {
		q.handler = 0
		q.wakeUp()
	}
	return success(in.unsupported("queue_id"), nil)
}

// cloneEvents copies the list of queued events for an answer written after
// the lock is released; the events themselves never change once queued.
func cloneEvents(events []map[string]any) []map[string]any {
	return append(make([]map[string]any, 0, len(events)), events...)
}
