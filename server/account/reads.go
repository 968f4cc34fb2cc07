package account

// Reads for the HTTP API, so that it goes through the service as the
// commands do. The routes check who may read what.

// LatestChange is the user's open or last change; ok is false when there
// is none.
func (s *Service) LatestChange(userID string) (c Change, ok bool, err error) {
	return s.opts.Recorder.LatestChange(userID)
}

// ListChanges is one page of the change records, newest first, only those
// in state when it is not empty.
func (s *Service) ListChanges(state State, page, perPage int) ([]Change, error) {
	return s.opts.Recorder.ListChanges(state, page, perPage)
}

// LinkOf is the user's link to a Zulip account; ok is false when there is
// none.
func (s *Service) LinkOf(userID string) (b Link, ok bool, err error) {
	return s.opts.Links.Link(userID)
}
