"""`/docs` and `/redoc` load nothing from another host: every script, style and icon they name
is served by the app itself, from files that ship with the installed package."""

import re

from httpx import AsyncClient

ASSET = re.compile(r"""(?:src|href)\s*=\s*['"]([^'"]+)['"]|url:\s*['"]([^'"]+)['"]""")


async def test_docs_and_redoc_name_only_assets_the_app_serves(anon: AsyncClient) -> None:
    for page_path in ("/docs", "/redoc"):
        page = await anon.get(page_path)
        assert page.status_code == 200
        assert "//" not in re.sub(
            r"https?://(127\.0\.0\.1|testserver)", "", page.text.split("<body", 1)[0]
        ), page.text
        assets = {a or b for a, b in ASSET.findall(page.text)}
        scripts = {a for a in assets if a.endswith(".js")}
        assert scripts, page.text
        for asset in assets:
            assert asset.startswith("/"), f"{page_path} loads {asset} from elsewhere"
            served = await anon.get(asset)
            assert served.status_code == 200, asset
            if asset.endswith(".js"):
                assert len(served.content) > 100_000, asset  # the real bundle, not a stub
    # Swagger UI would otherwise send the document to validator.swagger.io for a badge.
    assert '"validatorUrl": null' in (await anon.get("/docs")).text
