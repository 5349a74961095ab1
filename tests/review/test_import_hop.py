"""One import away: which modules may define a route file's guards."""

from __future__ import annotations

from app.review.import_hop import MAX_PER_FILE, hop_candidates, hops_for

PY = """\
from fastapi import APIRouter, Depends
from app.auth.deps import require_admin, current_user as user
from app.models import Refund
from .routers import AdminRouter
from . import guards
from ..core.base import BaseView
import stripe

router = AdminRouter()


@guards.staff_only
@router.post("/refunds", dependencies=[Depends(require_admin)])
def create(me=Depends(user)):
    return Refund()


class RefundView(BaseView):
    pass
"""


def test_python_project_imports_used_as_guards() -> None:
    got = hop_candidates("app/api/v1/refunds.py", PY)
    assert (
        got
        == [
            "app/auth/deps.py",
            "app/auth/deps/__init__.py",
            "app/api/v1/routers.py",
            "app/api/v1/routers/__init__.py",
            "app/api/v1/guards.py",
            "app/api/core/base.py",
        ][:MAX_PER_FILE]
    )
    # app.models is imported but not used as a guard, fastapi is a library
    assert not any("models" in p or "fastapi" in p for p in got)


def test_python_src_layout() -> None:
    text = "from app.auth import admin\n\n@admin\ndef f(): ...\n"
    assert hop_candidates("src/app/api.py", text) == ["src/app/auth.py", "src/app/auth/__init__.py"]


TS = """\
import { Controller, Post, UseGuards } from '@nestjs/common';
import { JwtGuard } from '../auth/jwt.guard';
import type { Roles } from './roles.decorator';
import { Unused } from './unused';
import { BaseController } from './base.controller.ts';

@Controller('refunds')
@Roles('admin')
export class RefundsController extends BaseController {
  @Post()
  @UseGuards(JwtGuard)
  create() {}
}
"""


def test_typescript_relative_imports_only() -> None:
    assert hop_candidates("src/refunds/refunds.controller.ts", TS) == [
        "src/auth/jwt.guard.ts",
        "src/auth/jwt.guard/index.ts",
        "src/refunds/roles.decorator.ts",
        "src/refunds/roles.decorator/index.ts",
        "src/refunds/base.controller.ts",
    ]


RB = """\
class Api::OrdersController < Api::BaseController
  include Authenticatable
  def create; end
end
"""


def test_ruby_base_class_and_concerns_by_convention() -> None:
    assert hop_candidates("app/controllers/api/orders_controller.rb", RB) == [
        "app/controllers/api/base_controller.rb",
        "app/controllers/api/concerns/base_controller.rb",
        "app/controllers/api/authenticatable.rb",
        "app/controllers/api/concerns/authenticatable.rb",
    ]


def test_hops_for_several_files_without_repeats_or_themselves() -> None:
    text = "from app.auth import admin\n@admin\ndef f(): ...\n"
    files = [("app/api/a.py", text), ("app/api/b.py", text), ("app/auth.py", "x = 1\n")]
    assert hops_for(iter(files), limit=10) == ["app/auth/__init__.py"]
    assert hops_for(files[:1], limit=1) == ["app/auth.py"]


def test_unknown_languages_and_hostile_lines() -> None:
    assert hop_candidates("README.md", "from app import x\n@x") == []
    long = "from " + "a." * 100_000 + " import " + "x," * 100_000 + "\n@x\n"
    assert hop_candidates("app/api.py", long) == []
    assert hop_candidates("a.ts", "import {" + " x," * 100_000 + "} from './x'\n") == []
    named = hop_candidates("a.rb", "class A < " + "B" * 100_000 + "\n")
    assert all(len(p) < 300 for p in named)
