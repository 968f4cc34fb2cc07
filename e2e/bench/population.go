package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/account-sync/mattermost-plugin-account-sync/e2e/stack"
	"github.com/account-sync/mattermost-plugin-account-sync/server/zulip/zuliptest"
)

// A population's users are written straight into Mattermost's database:
// the REST API hashes each new password with bcrypt on the server (tens of
// milliseconds of CPU each, minutes for 10,000 on two cores). One template
// user is made through the API (password hash, notify props, team and
// channel memberships as the server makes them); the others are copies of
// its rows with their own id, username and email. All share its password.

// naming is how a population's users are named: their ids, usernames and
// the domain of their addresses (the same in Mattermost and in Zulip).
type naming struct {
	idPrefix   string // 9 characters + 17 digits: 26 characters, a valid Mattermost id
	namePrefix string // + 5 digits
	domain     string
}

// scanNaming names the scan phase's users.
var scanNaming = naming{idPrefix: "scanbench", namePrefix: "scan-", domain: "example.com"}

func (n naming) userID(i int) string      { return fmt.Sprintf("%s%017d", n.idPrefix, i) }
func (n naming) userName(i int) string    { return fmt.Sprintf("%s%05d", n.namePrefix, i) }
func (n naming) email(name string) string { return name + "@" + n.domain }
func (n naming) valid() bool              { return len(n.idPrefix) == 9 && n.namePrefix != "" && n.domain != "" }

// psql runs SQL on the bed's database as Mattermost's own database user.
type psql struct {
	bin                      string
	port                     int
	user, password, database string
	host                     string
}

func newPsql(st *stack.Stack) (*psql, error) {
	bin, err := exec.LookPath("psql")
	if err != nil {
		return nil, fmt.Errorf("psql not on PATH (the test bed needs PostgreSQL's programs there): %w", err)
	}
	pg := st.Bed.Postgres
	return &psql{bin: bin, host: "127.0.0.1", port: pg.Port, user: pg.User, password: pg.Password, database: pg.Database}, nil
}

// run runs sql (several statements may be given) and returns what it
// printed, unaligned and without headers.
func (p *psql) run(ctx context.Context, sql string) (string, error) {
	args := []string{"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", p.host, "-p", strconv.Itoa(p.port), "-U", p.user, "-d", p.database, "-f", "-"}
	cmd := exec.CommandContext(ctx, p.bin, args...) //nolint:gosec // psql from PATH, on the bed's own database
	// The password goes through the environment, never a command line.
	cmd.Env = append(os.Environ(), "PGPASSWORD="+p.password, "PGCONNECT_TIMEOUT=10")
	cmd.Stdin = strings.NewReader(sql)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("psql: %w: %s", err, strings.TrimSpace(errOut.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// columns lists the columns of each table, in order.
func (p *psql) columns(ctx context.Context, tables ...string) (map[string][]string, error) {
	quoted := make([]string, len(tables))
	for i, t := range tables {
		quoted[i] = "'" + t + "'"
	}
	out, err := p.run(ctx, "SELECT table_name || '|' || column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name IN ("+
		strings.Join(quoted, ", ")+") ORDER BY table_name, ordinal_position;")
	if err != nil {
		return nil, err
	}
	cols := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		if t, c, ok := strings.Cut(line, "|"); ok {
			cols[t] = append(cols[t], c)
		}
	}
	for _, t := range tables {
		if len(cols[t]) == 0 {
			return nil, fmt.Errorf("no table %q in Mattermost's database (psql gave %q)", t, firstLine(out))
		}
	}
	return cols, nil
}

// cloneUsers copies the template user's rows (users, teammembers,
// channelmembers) to the users from..to (inclusive) named by nm, in one
// transaction.
func (p *psql) cloneUsers(ctx context.Context, nm naming, templateID string, from, to int) error {
	cols, err := p.columns(ctx, "users", "teammembers", "channelmembers")
	if err != nil {
		return err
	}
	id := fmt.Sprintf("('%s' || lpad(g.i::text, 17, '0'))", nm.idPrefix)
	name := fmt.Sprintf("('%s' || lpad(g.i::text, 5, '0'))", nm.namePrefix)
	email := "(" + name + " || '@" + nm.domain + "')"
	insert := func(table, key string, set map[string]string) string {
		var names, values []string
		for _, c := range cols[table] {
			names = append(names, `"`+c+`"`)
			if v, ok := set[c]; ok {
				values = append(values, v)
			} else {
				values = append(values, `t."`+c+`"`)
			}
		}
		return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s t CROSS JOIN generate_series(%d, %d) AS g(i) WHERE t.%s = '%s';\n",
			table, strings.Join(names, ", "), strings.Join(values, ", "), table, from, to, key, templateID)
	}
	sql := "BEGIN;\n" +
		insert("users", "id", map[string]string{"id": id, "username": name, "email": email}) +
		insert("teammembers", "userid", map[string]string{"userid": id}) +
		insert("channelmembers", "userid", map[string]string{"userid": id}) +
		"COMMIT;\n" +
		fmt.Sprintf("SELECT count(*) FROM users WHERE id LIKE '%s%%';\n", nm.idPrefix)
	out, err := p.run(ctx, sql)
	if err != nil {
		return err
	}
	// Copies are numbered from 1 (the template, 0, has a server-made id).
	if n, _ := strconv.Atoi(out); n != to {
		return fmt.Errorf("%s copies in the database after the copy, want %d", out, to)
	}
	return nil
}

// population is a phase's users, named by its naming: the template (0)
// and its copies. The zero naming is the scan's.
type population struct {
	naming     naming
	template   *user
	password   string
	users      []*user // index i is the user numbered i
	dbTime     time.Duration
	zulipTime  time.Duration
	cacheFlush time.Duration
}

// grow brings the population to n users in Mattermost (the database) and
// in Zulip (the emulator, same address), none linked yet.
func (p *population) grow(ctx context.Context, st *stack.Stack, db *psql, n int) error {
	if p.naming == (naming{}) {
		p.naming = scanNaming
	}
	nm := p.naming
	if !nm.valid() {
		return fmt.Errorf("a population's naming needs a 9-character id prefix, a name prefix and a domain: %+v", nm)
	}
	if p.template == nil {
		name := nm.userName(0)
		mu, _, err := st.Bed.CreateUser(ctx, name, nm.email(name))
		if err != nil {
			return err
		}
		p.template = &user{id: mu.Id, name: name, email: nm.email(name)}
		p.password = st.Bed.Password(name)
		p.users = append(p.users, p.template)
		zu := st.Zulip.AddUser(zuliptest.User{Email: p.template.email, FullName: name})
		p.template.zulipID = zu.ID
	}
	from := len(p.users)
	if n <= from {
		return nil
	}
	start := time.Now()
	if err := db.cloneUsers(ctx, nm, p.template.id, from, n-1); err != nil {
		return fmt.Errorf("copying the template user in the database: %w", err)
	}
	p.dbTime = time.Since(start)

	start = time.Now()
	for i := from; i < n; i++ {
		name := nm.userName(i)
		u := &user{id: nm.userID(i), name: name, email: nm.email(name)}
		u.zulipID = st.Zulip.AddUser(zuliptest.User{Email: u.email, FullName: name}).ID
		p.users = append(p.users, u)
	}
	p.zulipTime = time.Since(start)

	// The server caches users by id and a few lists of them; nothing of
	// these ids is cached yet, but counts and lists are: flush them all,
	// then check the server sees the new users.
	start = time.Now()
	if _, err := st.Bed.Admin.InvalidateCaches(ctx); err != nil {
		return fmt.Errorf("invalidating the server's caches: %w", err)
	}
	p.cacheFlush = time.Since(start)
	last := p.users[n-1]
	got, _, err := st.Bed.Admin.GetUser(ctx, last.id, "")
	if err != nil {
		return fmt.Errorf("the server does not see the user %s written in its database: %w", last.name, err)
	}
	// (Whether its email is verified the API does not show another user;
	// /account link-all skips unverified ones, and the linked count tells.)
	if got.Email != last.email {
		return fmt.Errorf("the server sees %s as %q, want %q", last.name, got.Email, last.email)
	}
	return nil
}

// linkAllTimed runs /account link-all as the admin and returns how long it
// took and how many it linked.
func linkAllTimed(ctx context.Context, st *stack.Stack) (time.Duration, int, int, error) {
	start := time.Now()
	resp, err := st.Bed.Execute(ctx, st.Bed.Admin, "/account link-all")
	took := time.Since(start)
	if err != nil {
		return took, 0, 0, err
	}
	var linked, already int
	if _, err := fmt.Sscanf(firstLine(resp.Text), "Linked %d", &linked); err != nil {
		return took, 0, 0, fmt.Errorf("/account link-all answered %q", firstLine(resp.Text))
	}
	if i := strings.Index(resp.Text, "Already linked before: "); i >= 0 {
		_, _ = fmt.Sscanf(resp.Text[i:], "Already linked before: %d", &already)
	}
	return took, linked, already, nil
}
