"""H5 pages and the JSON API."""

from __future__ import annotations

from aiohttp import web

from webviews import (
    admin,
    api,
    catalog,
    contact,
    customer,
    dashboard,
    dealers,
    dispatch,
    finance,
    integration,
    leads,
    lifecycle,
    news,
    pages,
    production,
    signing,
    stock,
    tickets,
    tokens,
    webhooks,
)


def add_routes(app: web.Application) -> None:
    app.add_routes(pages.routes)
    app.add_routes(dispatch.routes)
    app.add_routes(lifecycle.routes)
    app.add_routes(signing.routes)
    app.add_routes(dashboard.routes)
    app.add_routes(api.routes)
    app.add_routes(integration.routes)
    app.add_routes(admin.routes)
    app.add_routes(catalog.routes)
    app.add_routes(finance.routes)
    app.add_routes(production.routes)
    app.add_routes(tokens.routes)
    app.add_routes(customer.routes)
    app.add_routes(leads.routes)
    app.add_routes(contact.routes)
    app.add_routes(tickets.routes)
    app.add_routes(news.routes)
    app.add_routes(dealers.routes)
    app.add_routes(stock.routes)
    app.add_routes(webhooks.routes)
