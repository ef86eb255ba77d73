// Fixture for the layering check (see ../model/reaches_up.h).
#pragma once
#include "model/reaches_up.h"
