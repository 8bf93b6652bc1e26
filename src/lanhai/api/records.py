"""API routes: records (being written)."""

from fastapi import APIRouter

router = APIRouter()
