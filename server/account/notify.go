package account

// This file tells users what happened outside a command's reply: a direct
// message from the plugin's bot.

// notifyOnBehalf tells a user that an admin changed, or started to change,
// their email.
func (s *Service) notifyOnBehalf(res Result) {
	admin := res.Change.RequestedBy
	if u, err := s.mm.GetUser(admin); err == nil && u.Username != "" {
		admin = "@" + u.Username
	}
	if err := s.opts.Notifier.Notify(res.Change.UserID, res.OnBehalfNotice(admin)); err != nil {
		s.opts.Logger.Warn("account sync: could not tell the user about an admin's change", "change_id", res.Change.ID, "user_id", res.Change.UserID, "error", err.Error())
	}
}

// notify sends the user a direct message about where their change ended.
func (s *Service) notify(res Result) {
	msg := res.Notice()
	if msg == "" {
		return
	}
	if err := s.opts.Notifier.Notify(res.Change.UserID, msg); err != nil {
		s.opts.Logger.Warn("account sync: could not send the user a direct message", "change_id", res.Change.ID, "user_id", res.Change.UserID, "error", err.Error())
	}
}
