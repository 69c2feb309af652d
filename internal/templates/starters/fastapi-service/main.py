"""A FastAPI service: uvicorn serves `app` on $PORT."""

import os

from fastapi import FastAPI

app = FastAPI(title=os.environ.get("APP_NAME", "API"))


@app.get("/health")
def health() -> dict:
    """The platform's health check: answer 200 while the service can serve."""
    return {"ok": True}


@app.get("/")
def root() -> dict:
    return {"message": "Hello from your API"}


@app.get("/items/{item_id}")
def read_item(item_id: int, q: str | None = None) -> dict:
    return {"item_id": item_id, "q": q}
