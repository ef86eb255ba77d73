// Fixture for the layering check: model may not include io (a higher folder). The check must
// reject this tree.
#pragma once
#include "io/opens_models.h"
