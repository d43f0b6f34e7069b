from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from app.agency.schemas import AgencyRead
from app.api_keys.schemas import ApiKeyRead
from app.users.schemas import UserRead


class TokenResponse(BaseModel):
    access_token: str = Field(examples=["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9…"])
    token_type: Literal["bearer"] = Field(default="bearer", examples=["bearer"])
    expires_in: int = Field(description="Seconds until the token expires.", examples=[900])


class MeRead(BaseModel):
    """Who you are: a user (logged in), or an API key and the user it acts for, if any."""

    agency: AgencyRead
    user: UserRead | None = Field(description="The person acting, if any.")
    api_key: ApiKeyRead | None = Field(description="The API key used, if any.")
    acting_user_id: UUID | None = Field(
        description="The person acting: you, or the user your API key named in On-Behalf-Of.",
        examples=["0196f0a8-3c1e-7b52-9d4e-2f7a1c9e5b10"],
    )
