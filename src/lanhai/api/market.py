"""API routes of the technology market: ``GET /api/market/match/{accession}`` ranks the
offers for a demand (or the demands for an offer) the caller may see, explained."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from lanhai.api import schemas
from lanhai.api.deps import ActorDep, BankDep
from lanhai.services.market import MAX_TOP

router = APIRouter(prefix="/api/market", tags=["market"])


@router.get("/match/{accession}", summary="Offers for a demand, or demands for an offer",
            response_model=schemas.MarketMatches, response_model_by_alias=True)
def match(actor: ActorDep, bank: BankDep, accession: str,
          top: Annotated[int, Query(ge=1, le=MAX_TOP, description="How many matches")] = 10
          ) -> dict[str, Any]:
    """The best ``top`` counterparts on the market, in either language, each with its score
    and why: the concepts both name (褐藻胶寡糖 and "alginate oligosaccharide" are one),
    the words in common, the conditions of the demand met or missed (readiness level,
    transfer type, sector, field, expiry) and the bank's records behind the offer. Only
    published entries the caller may see are ranked."""
    return bank.market.match(actor, accession, top)
