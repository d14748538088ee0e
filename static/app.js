// Placeholder so static.FS compiles; the front-end engineer replaces it.
