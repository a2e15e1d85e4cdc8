// src/net/server_core.hpp — internal: the transport sees its server through this.
#pragma once

#include <tulip/net/server.hpp>
