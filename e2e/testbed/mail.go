package testbed

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is one message received by the sink.
type Mail struct {
	From     string   // envelope sender (MAIL FROM)
	To       []string // envelope recipients (RCPT TO)
	Subject  string   // decoded (RFC 2047 undone)
	Body     string   // the text/plain part, transfer encoding undone; if the mail has only HTML, that HTML with tags stripped
	HTML     string   // the text/html part, transfer encoding undone ("" if none)
	Header   mail.Header
	Raw      string // the message as received
	Received time.Time
}

// SentTo reports whether addr (case-insensitive) is one of the envelope
// recipients.
func (m Mail) SentTo(addr string) bool {
	for _, t := range m.To {
		if strings.EqualFold(t, addr) {
			return true
		}
	}
	return false
}

// MailSink is an SMTP server on loopback that accepts every message (no
// authentication, no TLS), keeps it in memory and appends it to a log file.
type MailSink struct {
	Addr string // host:port
	Host string // 127.0.0.1
	Port int

	srv     *smtp.Server
	logPath string

	mu      sync.Mutex
	msgs    []Mail
	changed chan struct{} // closed and replaced whenever a message arrives
	closed  bool
}

// StartMailSink starts a sink on a free loopback port; received mails are
// appended to logPath when it is not empty.
func StartMailSink(logPath string) (*MailSink, error) {
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		f.Close()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	m := &MailSink{
		Addr:    ln.Addr().String(),
		Host:    "127.0.0.1",
		Port:    ln.Addr().(*net.TCPAddr).Port,
		logPath: logPath,
		changed: make(chan struct{}),
	}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &sinkSession{sink: m}, nil
	}))
	s.Addr = m.Addr
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.ReadTimeout = 60 * time.Second
	s.WriteTimeout = 60 * time.Second
	s.MaxMessageBytes = 32 << 20
	s.MaxRecipients = 1000
	m.srv = s
	go func() { _ = s.Serve(ln) }()
	return m, nil
}

// Messages returns a copy of every message received so far, oldest first.
func (m *MailSink) Messages() []Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Mail(nil), m.msgs...)
}

// Count is the number of messages received so far; pass it to WaitForAfter
// to wait only for messages that arrive later.
func (m *MailSink) Count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.msgs)
}

// WaitFor returns the first message, already received or arriving later, for
// which match returns true (match nil: any message). It gives up when ctx
// ends, listing what was received. Give ctx a deadline.
func (m *MailSink) WaitFor(ctx context.Context, match func(Mail) bool) (Mail, error) {
	return m.WaitForAfter(ctx, 0, match)
}

// WaitForAfter is WaitFor looking only at messages after the first skip
// ones (skip = an earlier Count()).
func (m *MailSink) WaitForAfter(ctx context.Context, skip int, match func(Mail) bool) (Mail, error) {
	for {
		m.mu.Lock()
		for i := skip; i < len(m.msgs); i++ {
			if match == nil || match(m.msgs[i]) {
				msg := m.msgs[i]
				m.mu.Unlock()
				return msg, nil
			}
		}
		ch := m.changed
		m.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			var seen []string
			for _, msg := range m.Messages() {
				seen = append(seen, fmt.Sprintf("%q to %v", msg.Subject, msg.To))
			}
			return Mail{}, fmt.Errorf("no matching mail (%w); received %d: %s", ctx.Err(), len(seen), strings.Join(seen, "; "))
		}
	}
}

// Clear forgets the messages received so far (mail.log keeps them).
func (m *MailSink) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs = nil
}

// Close stops the SMTP server. Idempotent.
func (m *MailSink) Close() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	return m.srv.Close()
}

func (m *MailSink) add(msg Mail) {
	m.mu.Lock()
	m.msgs = append(m.msgs, msg)
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()

	if m.logPath == "" {
		return
	}
	f, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "=== %s from=<%s> to=%v subject=%q\n%s\n\n",
		msg.Received.Format(time.RFC3339Nano), msg.From, msg.To, msg.Subject,
		strings.TrimRight(strings.ReplaceAll(msg.Raw, "\r\n", "\n"), "\n"))
}

type sinkSession struct {
	sink *MailSink
	from string
	to   []string
}

func (s *sinkSession) Reset()        { s.from, s.to = "", nil }
func (s *sinkSession) Logout() error { return nil }

func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg := ParseMail(raw)
	msg.From = s.from
	msg.To = append([]string(nil), s.to...)
	msg.Received = time.Now()
	s.sink.add(msg)
	return nil
}

// ParseMail decodes a raw RFC 5322 message into a Mail (envelope fields
// empty). Parsing problems leave the fields it could not fill empty.
func ParseMail(raw []byte) Mail {
	msg := Mail{Raw: string(raw)}
	parsed, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		msg.Body = string(raw)
		return msg
	}
	msg.Header = parsed.Header
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(parsed.Header.Get("Subject")); err == nil {
		msg.Subject = subj
	} else {
		msg.Subject = parsed.Header.Get("Subject")
	}
	var text, htm strings.Builder
	walkPart(parsed.Header.Get("Content-Type"), parsed.Header.Get("Content-Transfer-Encoding"), parsed.Body, &text, &htm, 0)
	msg.Body = text.String()
	msg.HTML = htm.String()
	if msg.Body == "" && msg.HTML != "" {
		msg.Body = stripTags(msg.HTML)
	}
	return msg
}

func walkPart(ctype, cte string, body io.Reader, text, htm *strings.Builder, depth int) {
	mediaType, params, err := mime.ParseMediaType(ctype)
	if err != nil || ctype == "" {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") && depth < 10 {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			// NextPart already undoes quoted-printable (and drops the header).
			walkPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, text, htm, depth+1)
		}
	}
	var r io.Reader = body
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, _ := io.ReadAll(r)
	switch mediaType {
	case "text/plain":
		text.Write(b)
	case "text/html":
		htm.Write(b)
	}
}

var (
	tagRE    = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]*>`)
	blanksRE = regexp.MustCompile(`\n\s*\n\s*\n+`)
)

func stripTags(h string) string {
	s := tagRE.ReplaceAllString(h, " ")
	s = html.UnescapeString(s)
	s = blanksRE.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s)
}
