// tulip/process.hpp — subprocesses (asyncio's subprocess.py and the child
// watching of unix_events.py).
//
//   process/subprocess.hpp  create_subprocess_exec, create_subprocess_shell, Process
#pragma once

#include <tulip/process/subprocess.hpp>
#include <tulip/streams.hpp>
