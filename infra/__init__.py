"""Low-level helpers every layer may use: configuration types, the database connection, the key-value
store, files, security, time, metrics and the runtime. They import nothing else of Relay."""
