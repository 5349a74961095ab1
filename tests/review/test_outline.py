"""The outline reader: functions and classes of Python, Ruby and TS/JS files, and what encloses
a line; malformed and huge input."""

from __future__ import annotations

from app.review.outline import (
    CALLBACK,
    Block,
    Enclosing,
    language_of,
    outline,
    outline_lines,
)

PY = '''\
"""Refunds."""
from fastapi import APIRouter

router = APIRouter()


@router.post(
    "/refunds",
    dependencies=[Depends(auth)],
)
async def create_refund(
    body: Body,
) -> Refund:
    """Make one.

    def not_a_function():
    """
    data = {
        "a": 1,
}
    return data


class RefundView(APIView):
    permission_classes = [IsAdmin]

    def get(self, request):
        return 1

    # a comment at column 0 does not end the class
    def delete(self, request):
        x = 1

        return x
'''


def names(blocks: tuple[Block, ...]) -> list[tuple[str, str, int, int]]:
    return [(b.kind, b.name, b.start, b.end) for b in blocks]


def test_python_blocks_with_decorators_signatures_and_docstrings() -> None:
    blocks = outline(PY, "python")
    assert names(blocks) == [
        ("def", "create_refund", 7, 21),
        ("class", "RefundView", 24, 34),
        ("def", "get", 27, 28),
        ("def", "delete", 31, 34),
    ]
    assert blocks[2].parent == 1
    assert blocks[0].header == 11


def test_enclosing_prefers_the_function_then_the_class() -> None:
    blocks = outline(PY, "python")
    where = Enclosing(blocks, PY.count("\n") + 1)
    assert where.of(20, 20) == blocks[0]
    assert where.of(33, 34) == blocks[3]
    assert where.of(25, 25) == blocks[1]  # a class attribute: the class
    assert where.of(27, 32) == blocks[1]  # two methods: the class holds both
    assert where.of(3, 3) is None
    assert where.of(0, 0) is None
    assert where.of(10_000, 10_000) is None


RB = """\
class OrdersController < ApplicationController
  before_action :authenticate_user!

  def create
    if ok
      save
    end
    items.each do |i|
      i.touch
    end
  rescue StandardError
    head 500
  end

  def show; end

  private

  def order_params
    params.require(:order)
  end
end
"""


def test_ruby_blocks_end_at_their_own_end() -> None:
    assert names(outline(RB, "ruby")) == [
        ("class", "OrdersController", 1, 22),
        ("def", "create", 4, 13),
        ("def", "show", 15, 15),
        ("def", "order_params", 19, 21),
    ]


TS = """\
import { Controller } from '@nestjs/common';

@Controller('refunds')
export class RefundsController {
  constructor(private readonly svc: RefundsService) {}

  @Post()
  @UseGuards(AuthGuard)
  async create(@Body() body: CreateRefund): Promise<Refund> {
    const opts = { a: 1, b: '}' };
    if (body.amount > 0) {
      return this.svc.create(body, opts);
    }
    return null; // }
  }
}

router.post('/refunds', requireAuth, async (req, res) => {
  const s = `template ${req.body.id} {`;
  res.json(s);
});

export function helper(a: number) {
  /* { not a block */
  return a;
}

const handler = async (event) => {
  return event;
};
"""


def test_brace_blocks_skip_strings_comments_and_control_flow() -> None:
    blocks = outline(TS, "brace")
    assert names(blocks) == [
        ("class", "RefundsController", 3, 16),
        ("def", "constructor", 5, 5),
        ("def", "create", 7, 15),
        ("def", "router.post(…)", 18, 21),
        ("def", "helper", 23, 26),
        ("def", "handler", 28, 30),
    ]
    where = Enclosing(blocks, TS.count("\n") + 1)
    assert where.of(12, 12) == blocks[2]


def test_outline_lines_are_short_and_capped() -> None:
    blocks = outline(PY, "python")
    assert outline_lines(blocks, limit=10) == [
        "def create_refund (lines 7-21)",
        "class RefundView (lines 24-34)",
        "  def get (lines 27-28)",
        "  def delete (lines 31-34)",
    ]
    assert outline_lines(blocks, limit=2) == [
        "def create_refund (lines 7-21)",
        "class RefundView (lines 24-34)",
        "…",
    ]
    callbacks = outline("describe('x', () => {\n  it('y', () => {\n  });\n});\n", "brace")
    assert [b.name for b in callbacks] == [CALLBACK, CALLBACK]
    assert outline_lines(callbacks, limit=5) == [f"def {CALLBACK} (lines 1-4)"]


def test_language_of() -> None:
    assert language_of("app/api.py") == "python"
    assert language_of("app/models/order.rb") == "ruby"
    assert language_of("src/a.controller.ts") == "brace"
    assert language_of("web/App.JSX") == "brace"
    assert language_of("Makefile") is None
    assert language_of("dir.py/README") is None


def test_malformed_input_gives_blocks_or_none_never_an_error() -> None:
    for text in (
        "def (:\n  )))\n\tclass\n",
        "}}}}{{{{\n",
        "end\nend\ndef x\n",
        '"""never closed\ndef f():\n',
        "\x00\x01\ufeffclass A:\n  pass",
        "",
    ):
        for language in ("python", "ruby", "brace"):
            for block in outline(text, language):  # type: ignore[arg-type]
                assert 1 <= block.start <= block.end


def test_huge_and_hostile_files() -> None:
    """Deep brackets that never close, a 2 MB line, 50k methods: read without error (their
    speed is in bench/outline.py)."""
    never_closed = "def f():\n" + "    x = (" * 20_000 + "\n" + "def g(): pass\n" * 1_000
    assert names(outline(never_closed, "python")) == [("def", "f", 1, 1002)]
    ruby = "  " * 50_000 + "def x\n" + "def y\nend\n" * 50_000
    assert len(outline(ruby, "ruby")) == 50_000  # `def x` is past what a line shows
    minified = "function a() {" * 20_000 + "'" * 1_000_000 + "}" * 20_000
    assert outline(minified, "brace") == ()  # cut at its first characters: nothing closes
