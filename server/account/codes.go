package account

import "slices"

// kind is who can act on a failure code.
type kind int

// The kinds of failure codes.
const (
	kindUser    kind = iota // the user's to fix: input, account, limits
	kindAdmin               // only an administrator can fix it: users are told to ask, the log has the cause
	kindPassing             // a passing reason: the change is tried again later
	kindEnd                 // how a change carried on in the background ended
)

// codeProps is everything the flow knows of one failure code. Texts and
// HTTP statuses live at the edge, in tables of their own over Codes().
type codeProps struct {
	kind kind
	// forgetsFacts: what was remembered of Zulip (its version, the bot's
	// permission) may no longer hold, so the next change asks again.
	forgetsFacts bool
}

// codeTable is every failure code and its properties. A code missing here
// is a bug: TestCodeTableHasEveryCode reads failure.go.
var codeTable = map[Code]codeProps{
	CodeAddressMissing:      {kind: kindUser},
	CodeAddressTooLong:      {kind: kindUser},
	CodeAddressInvalid:      {kind: kindUser},
	CodeAddressSlash:        {kind: kindUser},
	CodeSameAddress:         {kind: kindUser},
	CodeManagedBySSO:        {kind: kindUser},
	CodeBotAccount:          {kind: kindUser},
	CodeUserDeactivated:     {kind: kindUser},
	CodeBusy:                {kind: kindUser},
	CodeTakenInMattermost:   {kind: kindUser},
	CodeDomainNotAllowed:    {kind: kindUser},
	CodeTakenInZulip:        {kind: kindUser},
	CodeZulipRefusedAddress: {kind: kindUser},
	CodeZulipDummyAddress:   {kind: kindUser},
	CodeZulipUserNotFound:   {kind: kindUser},
	CodeMattermostUnchanged: {kind: kindUser},

	CodeZulipNotConfigured:   {kind: kindAdmin},
	CodeZulipTooOld:          {kind: kindAdmin, forgetsFacts: true},
	CodeZulipUnauthorized:    {kind: kindAdmin, forgetsFacts: true},
	CodeZulipBotNotAdmin:     {kind: kindAdmin, forgetsFacts: true},
	CodeZulipNoPermission:    {kind: kindAdmin, forgetsFacts: true},
	CodeZulipRejected:        {kind: kindAdmin, forgetsFacts: true},
	CodeZulipRedirect:        {kind: kindAdmin, forgetsFacts: true},
	CodeMattermostFailed:     {kind: kindAdmin},
	CodeInternal:             {kind: kindAdmin},
	CodeSessionUnknown:       {kind: kindAdmin},
	CodeUserUnreadable:       {kind: kindAdmin},
	CodeRollbackLinkExpired:  {kind: kindAdmin},
	CodeDomainsMisconfigured: {kind: kindAdmin},

	CodeZulipUnavailable: {kind: kindPassing},
	CodeZulipRateLimited: {kind: kindPassing},

	CodeOAuthRefused:         {kind: kindUser},
	CodeOAuthRefusedAdmin:    {kind: kindUser},
	CodeTokenRefused:         {kind: kindUser},
	CodeLimitReached:         {kind: kindUser},
	CodeTooManyAttempts:      {kind: kindUser},
	CodeNotLinked:            {kind: kindUser},
	CodeZulipAccountMismatch: {kind: kindUser},
	CodeZulipAccountInactive: {kind: kindUser},
	CodeZulipLinkedElsewhere: {kind: kindUser},
	CodeAdminOnly:            {kind: kindUser},

	CodeChangeOpen:        {kind: kindUser},
	CodeChangedMeanwhile:  {kind: kindEnd},
	CodeLinkExpired:       {kind: kindEnd},
	CodeGaveUp:            {kind: kindEnd},
	CodeCancelled:         {kind: kindEnd},
	CodeLinkChanged:       {kind: kindEnd},
	CodeSyncTurnedOff:     {kind: kindEnd},
	CodeOfferNotCurrent:   {kind: kindUser},
	CodeMigrationDomain:   {kind: kindUser},
	CodeZulipMovedOn:      {kind: kindEnd},
	CodeMigrationState:    {kind: kindUser},
	CodeMigrationBusy:     {kind: kindUser},
	CodeMigrationNotFound: {kind: kindUser},
}

// Codes lists every failure code, sorted: the edge's tables of texts and
// HTTP statuses are checked against it.
func Codes() []Code {
	out := make([]Code, 0, len(codeTable))
	for c := range codeTable {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// ForAdmin reports whether only an administrator can fix c.
func (c Code) ForAdmin() bool { return codeTable[c].kind == kindAdmin }

// retryable tells a failure worth trying again later: Zulip unreachable,
// slow, failing with 5xx, or rate limiting.
func retryable(f *Failure) bool { return f != nil && codeTable[f.Code].kind == kindPassing }
