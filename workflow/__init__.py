"""The business rules: every change to an order goes through a function here."""
