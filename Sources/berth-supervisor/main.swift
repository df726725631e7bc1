// berth-supervisor: placeholder until the supervisor loop lands.
