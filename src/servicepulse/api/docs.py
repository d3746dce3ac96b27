"""GET /api/v1/docs: a plain HTML reference generated from the OpenAPI schema (no CDN, no JavaScript)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, select_autoescape

router = APIRouter(include_in_schema=False)

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True), trim_blocks=True, lstrip_blocks=True)
_PAGE = _env.from_string("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ info.title }} {{ info.version }}</title>
<link rel="stylesheet" href="/static/style.css">
</head>
<body>
<main id="main" class="container">
<h1>{{ info.title }} <small>{{ info.version }}</small></h1>
<p>{{ info.description }}</p>
<p>Machine-readable schema: <a href="{{ root }}/openapi.json">{{ root }}/openapi.json</a></p>
{% for op in operations %}
<section class="card" id="{{ op.id }}">
<h2><code>{{ op.method }} {{ root }}{{ op.path }}</code></h2>
{% if op.summary %}<p>{{ op.summary }}</p>{% endif %}
{% if op.description %}<p>{{ op.description }}</p>{% endif %}
{% if op.parameters %}
<table><caption>Parameters</caption>
<thead><tr><th scope="col">name</th><th scope="col">in</th><th scope="col">required</th><th scope="col">description</th></tr></thead>
<tbody>{% for p in op.parameters %}<tr><td><code>{{ p.name }}</code></td><td>{{ p.in }}</td><td>{{ 'yes' if p.required else 'no' }}</td><td>{{ p.description or '' }}</td></tr>{% endfor %}</tbody>
</table>
{% endif %}
{% if op.body %}<p>Request body: <code>{{ op.body }}</code></p>{% endif %}
<p>Responses: {% for status, text in op.responses %}<code>{{ status }}</code> {{ text }}{{ '; ' if not loop.last }}{% endfor %}</p>
</section>
{% endfor %}
</main>
</body>
</html>
""")


def _schema_name(content: dict) -> str:
    for media, spec in (content or {}).items():
        ref = spec.get("schema", {}).get("$ref", "")
        return f"{media} {ref.rsplit('/', 1)[-1]}".strip()
    return ""


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request):
    schema = request.app.openapi()
    operations = []
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            operations.append({
                "id": op.get("operationId", f"{method}-{path}"),
                "method": method.upper(), "path": path,
                "summary": op.get("summary"), "description": op.get("description"),
                "parameters": op.get("parameters", []),
                "body": _schema_name(op.get("requestBody", {}).get("content")),
                "responses": [(status, r.get("description", "")) for status, r in op.get("responses", {}).items()],
            })
    root = request.scope.get("root_path", "").rstrip("/")
    return HTMLResponse(_PAGE.render(info=schema.get("info", {}), operations=operations, root=root))
