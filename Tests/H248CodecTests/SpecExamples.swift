// The Iq examples of specs.md §10.5 (originating MSRP e2ae), with the unverified placeholders
// replaced by the configurable defaults of IqPackageTokens (tlsbsc/…, tcpbcc/…, iqprofile/1).

enum SpecExamples {
    static let stepA = """
    MEGACO/3 [192.0.2.100]:2944
    Transaction = 5001 {
      Context = $ {
        Priority = 0,
        Add = $ {
          Media {
            Stream = 1 {
              LocalControl { Mode = Inactive, ipdc/realm = "core" },
              Local {
    v=0
    c=IN IP4 $
    m=message $ TCP -
    a=setup:actpass
              }
            }
          },
          Events = 1 { hangterm/thb { timerx = 60 } }
        }
      }
    }
    """

    static let stepACompact = """
    !/3 [192.0.2.100]:2944
    T=5001{C=${PR=0,A=${M{ST=1{O{MO=IN,ipdc/realm="core"},L{
    v=0
    c=IN IP4 $
    m=message $ TCP -
    a=setup:actpass
    }}},E=1{hangterm/thb{timerx=60}}}}}
    """

    static let stepAReply = """
    MEGACO/3 [192.0.2.200]:2944
    Reply = 5001 {
      Context = 77 {
        Add = ip/core/4711 {
          Media { Stream = 1 { Local {
    v=0
    c=IN IP4 198.51.100.1
    m=message 40002 TCP -
    a=setup:actpass
          } } }
        }
      }
    }
    """

    static let stepB = """
    MEGACO/3 [192.0.2.100]:2944
    Transaction = 5002 {
      Context = 77 {
        Add = $ {
          Media {
            Stream = 1 {
              LocalControl { Mode = Inactive, ipdc/realm = "access", ipnapt/latch = ON },
              Local {
    v=0
    c=IN IP4 $
    m=message $ TCP/TLS -
    a=setup:actpass
    a=fingerprint:$
              },
              Remote {
    v=0
    c=IN IP4 10.1.1.10
    m=message 50000 TCP/TLS -
    a=fingerprint:sha-256 4A:AD:B9:B1:…:12:DF
              }
            }
          },
          Events = 2 { hangterm/thb { timerx = 60 }, tlsbsc/estfail, tcpbcc/estfail }
        }
      }
    }
    """

    static let stepBReply = """
    MEGACO/3 [192.0.2.200]:2944
    Reply = 5002 {
      Context = 77 {
        Add = ip/acc/4712 {
          Media { Stream = 1 { Local {
    v=0
    c=IN IP4 192.0.2.1
    m=message 40001 TCP/TLS -
    a=setup:actpass
    a=fingerprint:sha-256 AB:CD:…:EF
          } } }
        }
      }
    }
    """

    static let stepC = """
    MEGACO/3 [192.0.2.100]:2944
    Transaction = 5003 {
      Context = 77 {
        Modify = ip/core/4711 {
          Media { Stream = 1 {
            LocalControl { Mode = SendReceive },
            Remote {
    v=0
    c=IN IP4 203.0.113.5
    m=message 7654 TCP -
    a=setup:active
            } } }
        },
        Modify = ip/acc/4712 {
          Media { Stream = 1 { LocalControl { Mode = SendReceive } } },
          Signals { tlsbsc/establish }
        }
      }
    }
    """

    static let teardown = """
    MEGACO/3 [192.0.2.100]:2944
    Transaction = 5010 { Context = 77 { Subtract = ip/acc/4712, Subtract = ip/core/4711 } }
    """

    static let failureNotify = """
    MEGACO/3 [192.0.2.200]:2944
    Transaction = 9001 { Context = 77 { Notify = ip/acc/4712 { ObservedEvents = 2 {
      20250101T12000000:tlsbsc/estfail } } } }
    """

    static let failureNotifyReply = """
    MEGACO/3 [192.0.2.100]:2944
    Reply = 9001 { Context = 77 { Notify = ip/acc/4712 } }
    """

    static let registration = """
    MEGACO/3 [192.0.2.200]:2944
    Transaction = 1 { Context = - { ServiceChange = ROOT { Services {
      Method = Restart, Reason = "901 Cold Boot", Version = 3, Profile = iqprofile/1 } } } }
    """

    static let registrationReply = """
    MEGACO/3 [192.0.2.100]:2944
    Reply = 1 { Context = - { ServiceChange = ROOT { Services { Version = 3, Profile = iqprofile/1 } } } }
    """

    /// specs.md shows this one without a header; the MGC header is added.
    static let inactivity = """
    MEGACO/3 [192.0.2.100]:2944
    Transaction = 5020 { Context = - { Modify = ROOT { Events = 3 { it/ito { mit = 6000 } } } } }
    """

    static let all: [(String, String)] = [
        ("stepA", stepA), ("stepACompact", stepACompact), ("stepAReply", stepAReply), ("stepB", stepB),
        ("stepBReply", stepBReply), ("stepC", stepC), ("teardown", teardown), ("failureNotify", failureNotify),
        ("failureNotifyReply", failureNotifyReply), ("registration", registration),
        ("registrationReply", registrationReply), ("inactivity", inactivity),
    ]
}
