"""The WeCom edge: callback, crypto, typed events, inbox, outbox, API client."""
