package ir

// BodyQuote is the dollar quote the generated trigger SQL (internal/templates) encloses function bodies and DO
// blocks in: a table, column or value written inside a body must not contain it.
const BodyQuote = "$ar$"
